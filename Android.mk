# fphal in an Android tree built with make (Android 6 to 9): the prebuilt libraries that scripts/cross.sh
# or `cargo ndk` (minimum API 23) leave under target/, installed as fingerprint.$(FPHAL_VARIANT).so into
# vendor/lib/hw and vendor/lib64/hw, and the configuration into vendor/etc/fphal.toml. Trees with Soong
# modules take Android.bp instead; a tree uses one of the two, so this file only acts when asked to:
# android/BoardConfig.mk sets FPHAL_USE_ANDROID_MK := true on 6.x and 7.x; on 8 and 9, set it there yourself.
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
# Already stripped by the release profile; linked outside the build system.
LOCAL_STRIP_MODULE := false
LOCAL_CHECK_ELF_FILES := false
include $(BUILD_PREBUILT)

include $(CLEAR_VARS)
LOCAL_MODULE := fphal.toml
LOCAL_MODULE_CLASS := ETC
LOCAL_PROPRIETARY_MODULE := true
LOCAL_SRC_FILES := android/fphal.toml
include $(BUILD_PREBUILT)
endif
