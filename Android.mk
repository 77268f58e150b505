# fphal in an Android 6 to 11 tree (make): the prebuilt libraries that scripts/cross.sh or `cargo ndk`
# (minimum API 23) leave under target/, installed as fingerprint.$(FPHAL_VARIANT).so into vendor/lib/hw
# and vendor/lib64/hw, and the configuration as vendor/etc/fphal.toml. Android 12+ trees take Android.bp.
# The libraries are taken from target/ in this directory: build them before the Android build.
# Only active when FPHAL_USE_ANDROID_MK is true, which android/BoardConfig.mk sets up to Android 11.
ifeq ($(FPHAL_USE_ANDROID_MK),true)
LOCAL_PATH := $(call my-dir)
FPHAL_VARIANT ?= fphal

include $(CLEAR_VARS)
LOCAL_MODULE := fingerprint.$(FPHAL_VARIANT)
LOCAL_MODULE_CLASS := SHARED_LIBRARIES
LOCAL_MODULE_SUFFIX := .so
LOCAL_MODULE_RELATIVE_PATH := hw
# Installs under $(TARGET_OUT_VENDOR): /vendor, or /system/vendor where there is no vendor partition.
LOCAL_PROPRIETARY_MODULE := true
LOCAL_MULTILIB := both
LOCAL_SRC_FILES_arm64 := target/aarch64-linux-android/release/libfphal.so
LOCAL_SRC_FILES_arm := target/armv7-linux-androideabi/release/libfphal.so
LOCAL_SRC_FILES_x86_64 := target/x86_64-linux-android/release/libfphal.so
LOCAL_SRC_FILES_x86 := target/i686-linux-android/release/libfphal.so
LOCAL_SHARED_LIBRARIES := liblog libc libm libdl
# Already stripped by the release profile. Linked outside the build system: Android 10 and 11 would
# compare its (absent) SONAME with the module name; earlier releases ignore this line.
LOCAL_STRIP_MODULE := false
LOCAL_CHECK_ELF_FILES := false
include $(BUILD_PREBUILT)

# The configuration: on 6.x and 7.x the one with their /data/misc paths.
include $(CLEAR_VARS)
LOCAL_MODULE := fphal.toml
LOCAL_MODULE_CLASS := ETC
LOCAL_PROPRIETARY_MODULE := true
ifneq ($(filter 23 24 25,$(PLATFORM_SDK_VERSION)),)
LOCAL_SRC_FILES := android/fphal-legacy.toml
else
LOCAL_SRC_FILES := android/fphal.toml
endif
include $(BUILD_PREBUILT)
endif
