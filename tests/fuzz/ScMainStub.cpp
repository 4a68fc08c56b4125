// The configuration headers include SystemC's (for the model configuration structs), so the
// targets link libsystemc, which wants an sc_main; nothing here simulates.
extern "C" int sc_main(int, char*[]) {
    return 0;
}
