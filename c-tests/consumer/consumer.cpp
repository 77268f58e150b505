// Links libfphal.so from an installed prefix and uses its C API from C++: the version agrees with
// the header, and an auth token minted with a key verifies with it and not with another key.
#include <fphal.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
    if (std::strcmp(fphal_version(), FPHAL_VERSION_STRING) != 0) {
        std::fprintf(stderr, "library %s, header %s\n", fphal_version(), FPHAL_VERSION_STRING);
        return 1;
    }
    std::array<uint8_t, 32> key{}, other{};
    key.fill(7);
    other.fill(8);
    std::array<uint8_t, sizeof(hw_auth_token_t)> token{};
    if (fphal_auth_token_mint(key.data(), key.size(), 42, 1000, token.data(), token.size()) != 0) return 2;
    if (fphal_auth_token_verify(key.data(), key.size(), token.data(), token.size()) != 0) return 3;
    if (fphal_auth_token_verify(other.data(), other.size(), token.data(), token.size()) != -EBADMSG) return 4;
    std::printf("fphal %s from an installed prefix: version and auth token checks passed\n", fphal_version());
    return 0;
}
