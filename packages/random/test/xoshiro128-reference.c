/* xoshiro128** 1.1 as published by Blackman and Vigna (prng.di.unimi.it/xoshiro128starstar.c),
   seeded from a 32-bit seed by four steps of splitmix32 (golden-gamma increment, murmur3 fmix32). */
#include <stdint.h>
#include <stdio.h>
static inline uint32_t rotl(const uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static uint32_t s[4];
uint32_t next(void) {
  const uint32_t result = rotl(s[1] * 5, 7) * 9;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t; s[3] = rotl(s[3], 11);
  return result;
}
static uint32_t fmix32(uint32_t h) { h ^= h >> 16; h *= 0x85ebca6b; h ^= h >> 13; h *= 0xc2b2ae35; h ^= h >> 16; return h; }
int main(void) {
  uint32_t seeds[] = {0, 1, 42, 4294967295u};
  for (int k = 0; k < 4; k++) {
    uint32_t x = seeds[k];
    for (int i = 0; i < 4; i++) { x += 0x9e3779b9u; s[i] = fmix32(x); }
    printf("%u: state [%u, %u, %u, %u] next", seeds[k], s[0], s[1], s[2], s[3]);
    for (int i = 0; i < 6; i++) printf(" %u", next());
    printf("\n");
  }
  /* The published test: state {1, 2, 3, 4}. */
  s[0] = 1; s[1] = 2; s[2] = 3; s[3] = 4;
  printf("1,2,3,4:");
  for (int i = 0; i < 6; i++) printf(" %u", next());
  printf("\n");
}
/* Output of `gcc -O2 -o x xoshiro128-reference.c && ./x` (GCC 12, x86-64), the expected values
   of src/xoshiro128.test.ts:
   0: state [2462723854, 1020716019, 454327756, 1275600319] next 3809008728 1133695204 53579671 2891528803 139681546 2203266335
   1: state [2527132011, 314344336, 2535364964, 2041432039] next 2442144158 3238099751 3819917871 2104621829 2021136066 4223536128
   42: state [939911724, 3948730756, 321366731, 3317318717] next 2837322924 544945897 479756282 3500138142 339756180 113173290
   4294967295: state [920564995, 4230986166, 697614773, 1778835764] next 835879718 1921286648 2356205009 1885780724 980451116 1053911718
   1,2,3,4: 11520 0 5927040 70819200 2031721883 1637235492
*/
