// Tlb: a set-associative (or fully associative) TLB with superpages, ASIDs, global entries,
// CVA6-style flushes and tree pseudo-LRU replacement. It is the RTL twin of the C++ tlmmu::Tlb
// (models/mmu/Tlb.cpp) and must give the same answer, response for response, including the
// replacement victim. Verilog-2005 plus `function automatic`: accepted by Verilator 5.006
// (--lint-only -Wall clean) and Icarus (iverilog -g2012).
//
// Timing (every input is sampled at the rising edge of clk):
//   lookup      1 cycle:  lookup_valid in cycle N -> resp_* valid in cycle N+1 (registered).
//                         One lookup per cycle while lookup_ready is high.
//   refill      2 cycles: accepted in cycle N (refill_pending high in N+1), written at the end of
//                         N+1. lookup_ready is low while a refill is pending: the write and the
//                         victim choice must see every earlier lookup's replacement update, and a
//                         lookup after it must see the new entry (the C++ model's order).
//                         A new refill may be accepted in the write cycle (back to back).
//   invalidate  1 cycle:  applied at the edge that samples inv_valid. Any invalidation drops a
//                         refill accepted in the same cycle or still pending (Rocket's rule: a
//                         walk that raced an sfence.vma may carry a stale translation).
// A lookup sampled in the same cycle as an invalidation sees the contents before it.
//
// Page geometry is a strap (cfg_*), held constant while the TLB is used, like a CSR: one netlist
// serves every page-table format (9 index bits for sv39/x86_64, 10 for x86_32, ...).
//   cfg_index_bits  VPN bits per table level: an entry of level l ignores the low l*k VPN bits.
//   cfg_leaf_mask   levels at which leaves exist; a set-associative TLB probes one set per leaf
//                   level (hash-rehash, in increasing level order), a fully associative one
//                   compares every entry at its own page size.
// Entry layout: index = set * WAYS + way; set of an entry = (vpn >> level*k) mod SETS.
`default_nettype none

module Tlb #(
    parameter ENTRIES = 64,
    parameter WAYS = 4,     // power of two; ENTRIES / WAYS sets (a power of two)
    parameter ASID_BITS = 16,
    parameter VPN_BITS = 52, // VA >> page shift (64-bit VA, 4 KiB base pages)
    parameter PPN_BITS = 52,
    parameter LEVELS = 5    // page-size levels an entry can have (0 = base page)
) (
    input wire clk,
    input wire rst, // synchronous, active high: invalidates everything, clears PLRU state

    input wire [5:0] cfg_index_bits,
    input wire [LEVELS-1:0] cfg_leaf_mask,

    // Lookup request and its registered response.
    output wire lookup_ready,
    input wire lookup_valid,
    input wire [VPN_BITS-1:0] lookup_vpn,
    input wire [ASID_BITS-1:0] lookup_asid,
    output reg resp_valid,
    output reg resp_hit,
    output reg [VPN_BITS-1:0] resp_vpn,
    output reg [PPN_BITS-1:0] resp_ppn,
    output reg [ASID_BITS-1:0] resp_asid,
    output reg [LEVEL_W-1:0] resp_level,
    output reg [7:0] resp_flags, // PTE_F_*: V R W X U G A D (bit 0..7)
    output wire resp_global,
    output reg [WAY_W-1:0] resp_way,

    // Refill (an entry from the page walker).
    input wire refill_valid,
    input wire [VPN_BITS-1:0] refill_vpn, // low level*k bits zero
    input wire [PPN_BITS-1:0] refill_ppn,
    input wire [ASID_BITS-1:0] refill_asid,
    input wire [LEVEL_W-1:0] refill_level,
    input wire [7:0] refill_flags,
    output wire refill_pending,
    output reg refill_done,     // pulse: the pending refill was written ...
    output reg [WAY_W-1:0] refill_way, // ... into this way,
    output reg refill_evicted,  // ... replacing a valid entry (set full, PLRU victim),
    output reg refill_in_place, // ... or overwriting the same translation
    output reg refill_dropped,  // pulse: an invalidation dropped a refill

    // Invalidation: kind 0 all, 1 by ASID, 2 by VA, 3 by VA and ASID (tlmmu::FlushKind).
    input wire inv_valid,
    input wire [1:0] inv_kind,
    input wire [VPN_BITS-1:0] inv_vpn,
    input wire [ASID_BITS-1:0] inv_asid
);
    localparam SETS = ENTRIES / WAYS;
    localparam WAY_BITS = $clog2(WAYS);
    localparam WAY_W = WAYS > 1 ? WAY_BITS : 1;
    localparam SET_BITS = $clog2(SETS);
    localparam SET_W = SETS > 1 ? SET_BITS : 1;
    localparam LEVEL_W = LEVELS > 1 ? $clog2(LEVELS) : 1;
    localparam TREE_W = WAYS > 1 ? WAYS - 1 : 1; // PLRU node bits per set, heap order
    localparam IDX_W = $clog2(ENTRIES) > 0 ? $clog2(ENTRIES) : 1;
    localparam G_BIT = 5; // PTE_F_G

    localparam [1:0] INV_ALL = 2'd0, INV_ASID = 2'd1, INV_VA = 2'd2, INV_VA_ASID = 2'd3;

    // ---- storage: flip-flops --------------------------------------------------------------------
    reg [ENTRIES-1:0] valid_q;
    reg [VPN_BITS-1:0] vpn_q[0:ENTRIES-1];
    reg [PPN_BITS-1:0] ppn_q[0:ENTRIES-1];
    reg [ASID_BITS-1:0] asid_q[0:ENTRIES-1];
    reg [LEVEL_W-1:0] level_q[0:ENTRIES-1];
    reg [7:0] flags_q[0:ENTRIES-1];
    reg [TREE_W-1:0] plru_q[0:SETS-1];

    // Pending refill.
    reg rf_valid_q;
    reg [VPN_BITS-1:0] rf_vpn_q;
    reg [PPN_BITS-1:0] rf_ppn_q;
    reg [ASID_BITS-1:0] rf_asid_q;
    reg [LEVEL_W-1:0] rf_level_q;
    reg [7:0] rf_flags_q;

    assign lookup_ready = !rf_valid_q;
    assign refill_pending = rf_valid_q;
    assign resp_global = resp_flags[G_BIT];

    // ---- tree PLRU (same encoding as tlmmu::ReplacementState) -----------------------------------
    // Node n has children 2n+1 (left) and 2n+2 (right); a node bit 0 means "victim on the left".
    // Touching a way points every node on its path away from it.
    function automatic [TREE_W-1:0] plru_touch(input [TREE_W-1:0] tree, input [WAY_W-1:0] way);
        integer d;
        integer node;
        reg [TREE_W-1:0] t;
        begin
            t = tree;
            node = 0;
            for (d = 0; d < WAY_BITS; d = d + 1) begin
                t[node] = !way[WAY_BITS-1-d];
                node = 2 * node + (way[WAY_BITS-1-d] ? 2 : 1);
            end
            plru_touch = t;
        end
    endfunction

    function automatic [WAY_W-1:0] plru_victim(input [TREE_W-1:0] tree);
        integer d;
        integer node;
        reg [WAY_W-1:0] way;
        begin
            way = {WAY_W{1'b0}};
            node = 0;
            for (d = 0; d < WAY_BITS; d = d + 1) begin
                way[WAY_BITS-1-d] = tree[node];
                node = 2 * node + (tree[node] ? 2 : 1);
            end
            plru_victim = way;
        end
    endfunction

    // ---- page-size masks and set indices --------------------------------------------------------
    // keep_mask[l]: the VPN bits an entry of level l compares (all but the low l*k).
    reg [VPN_BITS-1:0] keep_mask[0:LEVELS-1];
    reg [7:0] level_shift[0:LEVELS-1];
    integer l;
    always @* begin
        for (l = 0; l < LEVELS; l = l + 1) begin
            level_shift[l] = l[7:0] * {2'b0, cfg_index_bits}; // wrapper: (LEVELS-1)*k < 256
            keep_mask[l] = {VPN_BITS{1'b1}} << level_shift[l];
        end
    end

    // A set-associative TLB with a single leaf level compares every entry of the probed set at
    // its own page size; with several, only entries of the probed level (as the C++ model does).
    wire single_probe = cfg_leaf_mask != 0 && (cfg_leaf_mask & (cfg_leaf_mask - 1'b1)) == 0;

    // Only the low SET_W bits of the shifted VPN index the sets.
    /* verilator lint_off UNUSEDSIGNAL */
    function automatic [SET_W-1:0] set_of(input [VPN_BITS-1:0] vpn, input [7:0] shift);
        reg [VPN_BITS-1:0] shifted;
        begin
            shifted = vpn >> shift;
            set_of = SETS > 1 ? shifted[SET_W-1:0] : {SET_W{1'b0}};
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- lookup ---------------------------------------------------------------------------------
    reg [ENTRIES-1:0] lk_match; // entry maps lookup_vpn for lookup_asid at its page size
    reg lk_hit;
    reg [IDX_W-1:0] lk_idx;
    reg [SET_W-1:0] lk_set;
    reg [WAY_W-1:0] lk_way;
    integer i;
    integer lv;
    integer w;
    always @* begin
        for (i = 0; i < ENTRIES; i = i + 1)
            lk_match[i] = valid_q[i] && vpn_q[i] == (lookup_vpn & keep_mask[level_q[i]]) &&
                          (flags_q[i][G_BIT] || asid_q[i] == lookup_asid);
        lk_hit = 1'b0;
        lk_idx = {IDX_W{1'b0}};
        lk_set = {SET_W{1'b0}};
        lk_way = {WAY_W{1'b0}};
        if (SETS == 1) begin
            // One pass over the ways; the lowest matching way wins (loop runs high to low).
            for (w = WAYS - 1; w >= 0; w = w - 1)
                if (lk_match[w]) begin
                    lk_hit = 1'b1;
                    lk_idx = w[IDX_W-1:0];
                    lk_way = w[WAY_W-1:0];
                end
        end else begin
            // One probe per leaf level; the lowest level, then the lowest way, wins.
            for (lv = LEVELS - 1; lv >= 0; lv = lv - 1)
                if (cfg_leaf_mask[lv])
                    for (w = WAYS - 1; w >= 0; w = w - 1)
                        if (lk_match[set_of(lookup_vpn, level_shift[lv]) * WAYS + w] &&
                            (single_probe ||
                             level_q[set_of(lookup_vpn, level_shift[lv]) * WAYS + w] ==
                                 lv[LEVEL_W-1:0])) begin
                            lk_hit = 1'b1;
                            lk_set = set_of(lookup_vpn, level_shift[lv]);
                            lk_way = w[WAY_W-1:0];
                            lk_idx = {{IDX_W - SET_W{1'b0}}, lk_set} * WAYS[IDX_W-1:0] +
                                     {{IDX_W - WAY_W{1'b0}}, lk_way};
                        end
        end
    end

    // ---- refill: way choice for the pending entry -----------------------------------------------
    // The same translation already present (level, VPN, and ASID or both global) is overwritten
    // in place, so a TLB never holds two entries for one page; else the lowest invalid way; else
    // the PLRU victim.
    reg [SET_W-1:0] rf_set;
    reg [WAY_W-1:0] rf_way;
    reg rf_same_found;
    reg rf_free_found;
    reg [WAY_W-1:0] rf_same_way;
    reg [WAY_W-1:0] rf_free_way;
    reg [IDX_W-1:0] rf_idx;
    reg [IDX_W-1:0] rf_probe;
    integer rw;
    always @* begin
        rf_set = set_of(rf_vpn_q, level_shift[rf_level_q]);
        rf_same_found = 1'b0;
        rf_free_found = 1'b0;
        rf_same_way = {WAY_W{1'b0}};
        rf_free_way = {WAY_W{1'b0}};
        for (rw = WAYS - 1; rw >= 0; rw = rw - 1) begin
            rf_probe = {{IDX_W - SET_W{1'b0}}, rf_set} * WAYS[IDX_W-1:0] + rw[IDX_W-1:0];
            // A global translation is one translation whatever ASID refilled it.
            if (valid_q[rf_probe] && level_q[rf_probe] == rf_level_q &&
                vpn_q[rf_probe] == rf_vpn_q &&
                (asid_q[rf_probe] == rf_asid_q || (flags_q[rf_probe][G_BIT] && rf_flags_q[G_BIT])))
            begin
                rf_same_found = 1'b1;
                rf_same_way = rw[WAY_W-1:0];
            end
            if (!valid_q[rf_probe]) begin
                rf_free_found = 1'b1;
                rf_free_way = rw[WAY_W-1:0];
            end
        end
        rf_way = rf_same_found ? rf_same_way :
                 rf_free_found ? rf_free_way : plru_victim(plru_q[rf_set]);
        rf_idx = {{IDX_W - SET_W{1'b0}}, rf_set} * WAYS[IDX_W-1:0] +
                 {{IDX_W - WAY_W{1'b0}}, rf_way};
    end

    // ---- invalidation: which entries die --------------------------------------------------------
    reg [ENTRIES-1:0] inv_kill;
    reg inv_covers;
    reg inv_asid_match;
    integer ie;
    always @* begin
        for (ie = 0; ie < ENTRIES; ie = ie + 1) begin
            inv_covers = vpn_q[ie] == (inv_vpn & keep_mask[level_q[ie]]);
            inv_asid_match = !flags_q[ie][G_BIT] && asid_q[ie] == inv_asid; // globals survive
            case (inv_kind)
                INV_ALL: inv_kill[ie] = inv_valid;
                INV_ASID: inv_kill[ie] = inv_valid && inv_asid_match;
                INV_VA: inv_kill[ie] = inv_valid && inv_covers;
                INV_VA_ASID: inv_kill[ie] = inv_valid && inv_asid_match && inv_covers;
            endcase
        end
    end

    // ---- state update ---------------------------------------------------------------------------
    wire lk_fire = lookup_valid && lookup_ready;
    wire rf_commit = rf_valid_q && !inv_valid;
    integer s;
    always @(posedge clk) begin
        if (rst) begin
            valid_q <= {ENTRIES{1'b0}};
            for (s = 0; s < SETS; s = s + 1) plru_q[s] <= {TREE_W{1'b0}};
            rf_valid_q <= 1'b0;
            resp_valid <= 1'b0;
            resp_hit <= 1'b0;
            refill_done <= 1'b0;
            refill_evicted <= 1'b0;
            refill_in_place <= 1'b0;
            refill_dropped <= 1'b0;
        end else begin
            resp_valid <= lk_fire;
            resp_hit <= lk_fire && lk_hit;
            if (lk_fire) begin
                resp_vpn <= vpn_q[lk_idx];
                resp_ppn <= ppn_q[lk_idx];
                resp_asid <= asid_q[lk_idx];
                resp_level <= level_q[lk_idx];
                resp_flags <= flags_q[lk_idx];
                resp_way <= lk_way;
                // A lookup never meets a refill write (lookup_ready), so the PLRU has one writer.
                if (lk_hit) plru_q[lk_set] <= plru_touch(plru_q[lk_set], lk_way);
            end

            valid_q <= valid_q & ~inv_kill;

            refill_done <= rf_commit;
            refill_evicted <= rf_commit && !rf_same_found && !rf_free_found;
            refill_in_place <= rf_commit && rf_same_found;
            if (rf_commit) begin
                valid_q[rf_idx] <= 1'b1; // no invalidation this cycle, so no conflict with inv_kill
                vpn_q[rf_idx] <= rf_vpn_q;
                ppn_q[rf_idx] <= rf_ppn_q;
                asid_q[rf_idx] <= rf_asid_q;
                level_q[rf_idx] <= rf_level_q;
                flags_q[rf_idx] <= rf_flags_q;
                plru_q[rf_set] <= plru_touch(plru_q[rf_set], rf_way);
                refill_way <= rf_way;
            end

            refill_dropped <= inv_valid && (refill_valid || rf_valid_q);
            rf_valid_q <= refill_valid && !inv_valid;
            if (refill_valid) begin
                rf_vpn_q <= refill_vpn;
                rf_ppn_q <= refill_ppn;
                rf_asid_q <= refill_asid;
                rf_level_q <= refill_level;
                rf_flags_q <= refill_flags;
            end
        end
    end
endmodule

`default_nettype wire
