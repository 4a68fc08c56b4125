/* SMP: the address-space lock, the TLB shootdown protocol and the interrupt handler.
 * Freestanding C11. (Stub: the protocol follows.) */
#include "kernel/internal.h"

int fw_interrupt(struct fw_kernel* k, unsigned core) {
    if (core >= k->cores) return FW_ERR_INVAL;
    return 0;
}
