// libsystemc refers to sc_main; in test binaries gtest's main runs instead and the SystemC
// kernel starts on the first module, so this is never called.
extern "C" int sc_main(int, char**) {
    return 1;
}
