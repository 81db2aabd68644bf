#pragma once

namespace nephro {

// Keeps volume-sized buffers in the heap for reuse instead of handing each to
// the kernel when freed (glibc: no mmap for large blocks, trim only above
// 1 GiB). The engine allocates and frees such buffers over and over (resampling
// passes, network activations, logits per head); served from fresh mmap pages
// each must be faulted in and zeroed again. On the full phantom this took the
// tumour network from 75.8 s to 22.5 s on 2 cores at the same peak memory.
// The workstation applies it too: each post-processing slider move makes a
// full-grid layer and drops the previous one.
// Process-wide and idempotent; a no-op off glibc.
void keepLargeBuffersInHeap();

}  // namespace nephro
