/* Every struct size and field offset of the contract's tables, checked at compile time.
 * Built for LP64 and (with -m32) for x86 ILP32; arm32 values are in the #elif branch. */
#include <stddef.h>
#include "fphal.h"

#define OFF(t, f, v) _Static_assert(offsetof(t, f) == (v), #t "." #f " offset")
#define SIZE(t, v) _Static_assert(sizeof(t) == (v), "sizeof " #t)

SIZE(hw_auth_token_t, 69);
OFF(hw_auth_token_t, challenge, 1);
OFF(hw_auth_token_t, user_id, 9);
OFF(hw_auth_token_t, authenticator_id, 17);
OFF(hw_auth_token_t, authenticator_type, 25);
OFF(hw_auth_token_t, timestamp, 29);
OFF(hw_auth_token_t, hmac, 37);
SIZE(fingerprint_finger_id_t, 8);
SIZE(fingerprint_iterator_t, 12);
OFF(fingerprint_iterator_t, remaining_templates, 8);
SIZE(fingerprint_acquired_t, 4);
SIZE(fingerprint_authenticated_t, 80);
OFF(fingerprint_authenticated_t, hat, 8);
OFF(hw_module_t, module_api_version, 4);
OFF(hw_module_t, hal_api_version, 6);
OFF(hw_module_t, id, 8);
_Static_assert(HARDWARE_MODULE_TAG == 0x48574D54, "HWMT");
_Static_assert(HARDWARE_DEVICE_TAG == 0x48574454, "HWDT");
_Static_assert(FINGERPRINT_MODULE_API_VERSION_2_1 == 0x0201, "2.1");
_Static_assert(HARDWARE_HAL_API_VERSION == 0x0100, "hal 1.0");
_Static_assert(FINGERPRINT_ERROR == -1 && FINGERPRINT_TEMPLATE_ENUMERATING == 6, "msg types");
_Static_assert(FINGERPRINT_ERROR_LOCKOUT == 7 && FINGERPRINT_ACQUIRED_DETECTED == 6, "codes");
_Static_assert(sizeof(fingerprint_msg_type_t) == 4, "enums are int-sized");

#if defined(__LP64__)
SIZE(hw_module_t, 248);
OFF(hw_module_t, name, 16);
OFF(hw_module_t, author, 24);
OFF(hw_module_t, methods, 32);
OFF(hw_module_t, dso, 40);
OFF(hw_module_t, reserved, 48);
SIZE(hw_device_t, 120);
OFF(hw_device_t, module, 8);
OFF(hw_device_t, reserved, 16);
OFF(hw_device_t, close, 112);
SIZE(fingerprint_enroll_t, 24);
OFF(fingerprint_enroll_t, msg, 16);
SIZE(fingerprint_msg_t, 88);
OFF(fingerprint_msg_t, data, 8);
OFF(fingerprint_msg_t, data.enroll.msg, 24);
OFF(fingerprint_msg_t, data.authenticated.hat.hmac, 53);
SIZE(fingerprint_device_t, 240);
OFF(fingerprint_device_t, notify, 120);
OFF(fingerprint_device_t, set_notify, 128);
OFF(fingerprint_device_t, pre_enroll, 136);
OFF(fingerprint_device_t, enroll, 144);
OFF(fingerprint_device_t, post_enroll, 152);
OFF(fingerprint_device_t, get_authenticator_id, 160);
OFF(fingerprint_device_t, cancel, 168);
OFF(fingerprint_device_t, enumerate, 176);
OFF(fingerprint_device_t, remove, 184);
OFF(fingerprint_device_t, set_active_group, 192);
OFF(fingerprint_device_t, authenticate, 200);
OFF(fingerprint_device_t, reserved, 208);
SIZE(fingerprint_module_t, 248);
#else
SIZE(hw_module_t, 128);
OFF(hw_module_t, name, 12);
OFF(hw_module_t, author, 16);
OFF(hw_module_t, methods, 20);
OFF(hw_module_t, dso, 24);
OFF(hw_module_t, reserved, 28);
SIZE(hw_device_t, 64);
OFF(hw_device_t, module, 8);
OFF(hw_device_t, reserved, 12);
OFF(hw_device_t, close, 60);
#if defined(__i386__)
SIZE(fingerprint_enroll_t, 20);
OFF(fingerprint_enroll_t, msg, 12);
SIZE(fingerprint_msg_t, 84);
OFF(fingerprint_msg_t, data, 4);
OFF(fingerprint_msg_t, data.enroll.msg, 16);
OFF(fingerprint_msg_t, data.authenticated.hat.hmac, 49);
#else /* arm32: 64-bit members are 8-aligned */
SIZE(fingerprint_enroll_t, 24);
OFF(fingerprint_enroll_t, msg, 16);
SIZE(fingerprint_msg_t, 88);
OFF(fingerprint_msg_t, data, 8);
#endif
SIZE(fingerprint_device_t, 124);
OFF(fingerprint_device_t, notify, 64);
OFF(fingerprint_device_t, set_notify, 68);
OFF(fingerprint_device_t, pre_enroll, 72);
OFF(fingerprint_device_t, enroll, 76);
OFF(fingerprint_device_t, post_enroll, 80);
OFF(fingerprint_device_t, get_authenticator_id, 84);
OFF(fingerprint_device_t, cancel, 88);
OFF(fingerprint_device_t, enumerate, 92);
OFF(fingerprint_device_t, remove, 96);
OFF(fingerprint_device_t, set_active_group, 100);
OFF(fingerprint_device_t, authenticate, 104);
OFF(fingerprint_device_t, reserved, 108);
SIZE(fingerprint_module_t, 128);
#endif

int main(void) { return 0; }
