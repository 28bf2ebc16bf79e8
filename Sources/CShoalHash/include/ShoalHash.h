#ifndef SHOAL_HASH_H
#define SHOAL_HASH_H

#include <stddef.h>
#include <stdint.h>

/// Runs the SHA-256 compression function over `count` consecutive 64-byte blocks, updating
/// `state` (the eight working words, a..h). Uses the CPU's SHA extensions where it has them.
void shoal_sha256_blocks(uint32_t state[8], const uint8_t *blocks, size_t count);

/// The portable C path alone (tests compare the two).
void shoal_sha256_blocks_portable(uint32_t state[8], const uint8_t *blocks, size_t count);

/// 1 when `shoal_sha256_blocks` runs on the SHA extensions, 0 on the portable C path.
int shoal_sha256_accelerated(void);

#endif
