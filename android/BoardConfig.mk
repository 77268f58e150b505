# fphal's board lines: include from the device's BoardConfig.mk (android/device.mk has the product lines).
FPHAL_DIR ?= vendor/fphal

ifneq ($(filter 23 24 25,$(PLATFORM_SDK_VERSION)),)
# Android 6.x and 7.x: the fingerprintd policy, and the prebuilt module from Android.mk.
BOARD_SEPOLICY_DIRS += $(FPHAL_DIR)/android/sepolicy/legacy
FPHAL_USE_ANDROID_MK := true
else
# Android 8.0 and later: the vendor policy for hal_fingerprint_default and the HAL's manifest entry.
BOARD_SEPOLICY_DIRS += $(FPHAL_DIR)/android/sepolicy/vendor
DEVICE_MANIFEST_FILE += $(FPHAL_DIR)/android/vintf/fingerprint.xml
endif
