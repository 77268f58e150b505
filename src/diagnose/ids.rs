//! Stable ids at the front of fphal's own error lines (`FPH-0101 sensor: ...`), so that the doctor
//! recognises them whatever their wording becomes. An id is never reused for another meaning.

/// One of fphal's own failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageId {
    pub id: &'static str,
    pub meaning: &'static str,
    /// Most likely first.
    pub fixes: &'static [&'static str],
}

pub const CONFIG_REFUSED: MessageId = MessageId {
    id: "FPH-0001",
    meaning: "fphal's configuration file was refused as a whole; the line names the key or the file problem",
    fixes: &[
        "fix the key the line names (docs/fphal.toml lists every key with its range)",
        "check the file's owner and mode: a regular file of root or the service's user, not writable by everyone",
    ],
};

pub const OPEN_FAILED: MessageId = MessageId {
    id: "FPH-0002",
    meaning: "the fingerprint device could not be opened; the lines before it say which part failed",
    fixes: &["read the FPH lines just before this one"],
};

pub const SENSOR_MISSING: MessageId = MessageId {
    id: "FPH-0101",
    meaning: "the sensor kind's driver node is not there (open answers -ENODEV)",
    fixes: &[
        "check that the kernel has the driver and probed it: dmesg | grep -i fpc, ls /sys/bus/platform/devices",
        "set sensor.device to the node this kernel has, or choose the sensor.kind that fits (docs/porting.md section 8)",
    ],
};

pub const SENSOR_DENIED: MessageId = MessageId {
    id: "FPH-0102",
    meaning: "the sensor's node is there but the service may not use it (open answers -EACCES)",
    fixes: &[
        "give the node to the service's user (the commented chown lines in android/init/*.rc)",
        "allow it in SELinux (the commented rules in android/sepolicy/*; look for avc denials naming the node)",
    ],
};

pub const SENSOR_INVALID: MessageId = MessageId {
    id: "FPH-0103",
    meaning: "the sensor configuration does not fit this device; the line names the key",
    fixes: &["fix the key the line names (a node of another kind of driver names sensor.kind)"],
};

pub const SENSOR_FAILED: MessageId = MessageId {
    id: "FPH-0104",
    meaning: "the sensor could not be opened for another reason the line gives",
    fixes: &["read the system error in the line; for the virtual sensor, check sensor.runtime_dir"],
};

pub const SENSOR_FAULT: MessageId = MessageId {
    id: "FPH-0110",
    meaning: "the sensor's driver failed during an operation (ERROR_HW_UNAVAILABLE); the next operation opens it again",
    fixes: &[
        "look in dmesg for the driver around that time (a failed resume, an unbound device)",
        "if it repeats after every suspend, try sensor.power = \"always\"",
    ],
};

pub const TRUSTLET_FAILED: MessageId = MessageId {
    id: "FPH-0201",
    meaning: "the trustlet could not be set up; the line gives the reason",
    fixes: &[
        "with trustlet.kind \"qsee-fpc\": the FPH-022x line just before this one says which step failed",
        "with the software trustlet: check trustlet.key_dir: it must exist or be creatable, belong to the service's user and be private (0700)",
        "on Android, the init snippet creates the key directory at post-fs-data (android/init/*.rc)",
    ],
};

pub const QSEE_LIBRARY: MessageId = MessageId {
    id: "FPH-0220",
    meaning: "the QSEECom client library (qsee.library) could not be loaded, or lacks an entry point",
    fixes: &[
        "check that the vendor partition has it (/vendor/lib64/libQSEEComAPI.so on 64-bit, /vendor/lib on 32-bit)",
        "the service's linker namespace must see it: a vendor service (HIDL 8.0+) sees /vendor/lib*, fingerprintd on 7.x sees /system and /vendor",
    ],
};

pub const QSEE_APP: MessageId = MessageId {
    id: "FPH-0221",
    meaning: "a trustlet did not start, or the fingerprint trustlet's setup failed; the line names which and why",
    fixes: &[
        "check qsee.app_name and qsee.app_path against the .mdt/.b00 images on this device (docs/porting.md section 10 has the per-platform table)",
        "errno 2 or -1 from QSEECom_start_app: the image is not there; look for QSEECOM lines in logcat and qseecom lines in dmesg just before",
        "check qsee.generation: a trustlet of another generation refuses the commands",
    ],
};

pub const QSEE_KEYMASTER: MessageId = MessageId {
    id: "FPH-0222",
    meaning: "the keymaster trustlet did not hand over the auth-token key; the line carries its status, decoded by fphal-doctor",
    fixes: &[
        "a QSEE_MESSAGE_ERROR_BAD_DEST_APPNAME (0xff000ffc) status: the keymaster's whitelist lacks this fingerprint trustlet; use a matched keymaster and fingerprint firmware pair",
        "a keymaster status with no key: the keymaster firmware and this ROM's keymaster HAL may differ; check qsee.keymaster_names for the keymaster this firmware has",
    ],
};

pub const QSEE_KEY_REFUSED: MessageId = MessageId {
    id: "FPH-0223",
    meaning: "the fingerprint trustlet refused the auth-token key the keymaster gave it (FPC_SET_KEY_DATA)",
    fixes: &[
        "the fingerprint and keymaster trustlets may come from different firmware builds: use a matched pair",
        "check qsee.generation: another generation's trustlet reads the command differently",
    ],
};

pub const QSEE_FAILED: MessageId = MessageId {
    id: "FPH-0224",
    meaning: "the fingerprint trustlet failed a command; the operation ended with ERROR_HW_UNAVAILABLE and, after repeated failures, the trustlet is restarted",
    fixes: &[
        "one failure now and then is survivable; if it repeats, read the FPC status named in the line",
        "FPC_ERROR_IO or FPC_ERROR_DB on LOAD_DB: the database belongs to other firmware; remove the group's user.db and re-enroll",
    ],
};

pub const GROUP_REFUSED: MessageId = MessageId {
    id: "FPH-0210",
    meaning: "a group's stored templates could not be read back intact, or not read at all, so they were refused and left untouched",
    fixes: &[
        "if /data was restored or the key directory replaced, re-enroll (the old templates belong to another device key)",
        "check the group directory for files changed by hand",
        "if it says the manifest cannot be read now (an I/O error, a permission, too many open files), fix the \
         storage or its SELinux access: nothing was rewritten, and the group is read again at the next set_active_group",
    ],
};

pub const INTERNAL: MessageId = MessageId {
    id: "FPH-0301",
    meaning: "an internal error in fphal (a caught panic); the call failed safely",
    fixes: &["report it with the log around it"],
};

/// Every id, for lookups.
pub const ALL: &[MessageId] = &[
    CONFIG_REFUSED,
    OPEN_FAILED,
    SENSOR_MISSING,
    SENSOR_DENIED,
    SENSOR_INVALID,
    SENSOR_FAILED,
    SENSOR_FAULT,
    TRUSTLET_FAILED,
    QSEE_LIBRARY,
    QSEE_APP,
    QSEE_KEYMASTER,
    QSEE_KEY_REFUSED,
    QSEE_FAILED,
    GROUP_REFUSED,
    INTERNAL,
];

/// The id of `text` (`FPH-` and four digits), if it names one.
pub fn find(text: &str) -> Option<&'static MessageId> {
    let at = text.find("FPH-")?;
    let id = text.get(at..at + 8)?;
    ALL.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        for (i, m) in ALL.iter().enumerate() {
            assert!(m.id.len() == 8 && m.id[4..].chars().all(|c| c.is_ascii_digit()), "{}", m.id);
            assert!(ALL[i + 1..].iter().all(|o| o.id != m.id), "{}", m.id);
            assert!(!m.fixes.is_empty());
        }
    }
}
