# fphal's board lines: include from the device's BoardConfig.mk, after the device's own
# DEVICE_MANIFEST_FILE line (android/device.mk has the product lines).
FPHAL_DIR ?= vendor/fphal
# The Android release the device first shipped with (ro.product.first_api_level): it decides where the
# framework keeps the group directories on 9 and later.
FPHAL_FIRST_API_LEVEL ?= $(PRODUCT_SHIPPING_API_LEVEL)

# Android 6 to 11 take the prebuilt module from Android.mk; 12 and later, Android.bp.
ifneq ($(filter 23 24 25 26 27 28 29 30,$(PLATFORM_SDK_VERSION)),)
FPHAL_USE_ANDROID_MK := true
endif

ifneq ($(filter 23 24 25,$(PLATFORM_SDK_VERSION)),)
# Android 6.x and 7.x: the fingerprintd policy and the /data/misc/fphal label.
BOARD_SEPOLICY_DIRS += $(FPHAL_DIR)/android/sepolicy/legacy
else
# Android 8.0 and later: the policy for hal_fingerprint_default and the /data/vendor/fphal label.
BOARD_SEPOLICY_DIRS += $(FPHAL_DIR)/android/sepolicy/vendor
# From 9, on a device first shipped with 8.1 or earlier: the group directories' old label.
ifeq ($(filter 26 27,$(PLATFORM_SDK_VERSION)),)
# Old means anything but 28 or later, empty included: the framework reads a missing
# ro.product.first_api_level as 0, and uses the old directories for every level up to 27.
ifeq ($(filter 28 29 30 31 32 33 34 35 36 37 38 39 40,$(strip $(FPHAL_FIRST_API_LEVEL))),)
BOARD_SEPOLICY_DIRS += $(FPHAL_DIR)/android/sepolicy/upgrade
endif
endif
# The HAL's manifest entry: 8.1 to 10 only. 8.0 uses only the first DEVICE_MANIFEST_FILE (add the entry
# to the device's manifest.xml by hand there); from 11 the service carries its own. FPHAL_NO_MANIFEST
# := true leaves it out when the device manifest already declares the HAL.
ifneq ($(filter 27 28 29,$(PLATFORM_SDK_VERSION)),)
ifneq ($(FPHAL_NO_MANIFEST),true)
DEVICE_MANIFEST_FILE += $(FPHAL_DIR)/android/vintf/fingerprint.xml
endif
endif
endif
