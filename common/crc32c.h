// CRC-32C (Castagnoli), the checksum of every stored and shuffled block.
#ifndef MR_COMMON_CRC32C_H_
#define MR_COMMON_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace mr {

// Returns the CRC-32C of data[0, n), extending `crc` (pass 0 to start).
// Uses the SSE4.2 instruction when the CPU has it. Thread-safe.
uint32_t Crc32c(const char* data, size_t n, uint32_t crc = 0);

}  // namespace mr

#endif  // MR_COMMON_CRC32C_H_
