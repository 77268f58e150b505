# fphal's product lines: include from the device's device.mk (android/BoardConfig.mk has the board
# lines). FPHAL_DIR is where this repository sits in the Android tree; FPHAL_VARIANT names the module:
# libhardware loads fingerprint.<ro.hardware.fingerprint>.so first.
FPHAL_DIR ?= vendor/fphal
FPHAL_VARIANT ?= fphal
# fingerprint.fphal: Android.mk (6 to 9) or Android.bp's source build (trees that build Rust);
# fingerprint.fphal.prebuilt: Android.bp's prebuilt module. Both install fingerprint.$(FPHAL_VARIANT).so.
FPHAL_MODULE ?= fingerprint.$(FPHAL_VARIANT)

PRODUCT_PACKAGES += \
    $(FPHAL_MODULE) \
    fphal.toml
PRODUCT_PROPERTY_OVERRIDES += \
    ro.hardware.fingerprint=$(FPHAL_VARIANT)

ifneq ($(filter 23 24 25,$(PLATFORM_SDK_VERSION)),)
# Android 6.x and 7.x: fingerprintd (in the platform) loads the module.
PRODUCT_COPY_FILES += $(FPHAL_DIR)/android/init/fphal-legacy.rc:system/etc/init/fphal.rc
else
# Android 8.0 and later: the HIDL 2.1 default service loads the module from /vendor/lib{,64}/hw.
PRODUCT_PACKAGES += android.hardware.biometrics.fingerprint@2.1-service
PRODUCT_COPY_FILES += $(FPHAL_DIR)/android/init/fphal.rc:$(TARGET_COPY_OUT_VENDOR)/etc/init/fphal.rc
endif
