# fphal's product lines: include from the device's device.mk (android/BoardConfig.mk has the board
# lines). FPHAL_DIR is where this repository sits in the Android tree; FPHAL_VARIANT names the module:
# libhardware loads fingerprint.<ro.hardware.fingerprint>.so first.
FPHAL_DIR ?= vendor/fphal
FPHAL_VARIANT ?= fphal
# fingerprint.fphal: Android.mk (6 to 11) or Android.bp's source build (12+, Rust 1.85 or later);
# fingerprint.fphal.prebuilt: Android.bp's prebuilt module (12+). Both install fingerprint.$(FPHAL_VARIANT).so;
# on 12+ a variant other than fphal also needs the module names in Android.bp changed.
FPHAL_MODULE ?= fingerprint.$(FPHAL_VARIANT)

PRODUCT_PACKAGES += \
    $(FPHAL_MODULE) \
    fphal.toml
PRODUCT_PROPERTY_OVERRIDES += \
    ro.hardware.fingerprint=$(FPHAL_VARIANT)

ifneq ($(filter 23 24 25,$(PLATFORM_SDK_VERSION)),)
# Android 6.x and 7.x: fingerprintd loads the module. AOSP builds it but gives it no init service, and
# the framework (from 7.0) starts its fingerprint service only on devices that declare the feature.
PRODUCT_PACKAGES += fingerprintd
PRODUCT_COPY_FILES += \
    frameworks/native/data/etc/android.hardware.fingerprint.xml:system/etc/permissions/android.hardware.fingerprint.xml
ifeq ($(PLATFORM_SDK_VERSION),23)
# 6.0's init reads no /system/etc/init: the snippet goes to the root, imported by init.<board>.rc.
PRODUCT_COPY_FILES += $(FPHAL_DIR)/android/init/fphal-legacy.rc:root/init.fphal.rc
else
PRODUCT_COPY_FILES += $(FPHAL_DIR)/android/init/fphal-legacy.rc:system/etc/init/fphal.rc
endif
else
# Android 8.0 and later: the HIDL 2.1 default service loads the module from /vendor/lib{,64}/hw.
PRODUCT_PACKAGES += android.hardware.biometrics.fingerprint@2.1-service
PRODUCT_COPY_FILES += \
    $(FPHAL_DIR)/android/init/fphal.rc:$(TARGET_COPY_OUT_VENDOR)/etc/init/fphal.rc \
    frameworks/native/data/etc/android.hardware.fingerprint.xml:$(TARGET_COPY_OUT_VENDOR)/etc/permissions/android.hardware.fingerprint.xml
endif
