//! Generates fphal.h into `OUT_DIR`: the AOSP declarations (include-src/aosp_types.h) followed by
//! fphal's own functions as cbindgen sees them. The committed include/fphal.h must equal it: a
//! test compares the two, and `scripts/refresh-header.sh` copies the generated one over.

/// The crate's version as C macros, so that a C or C++ consumer can check it at compile time.
fn version_macros() -> String {
    let v = |name: &str| std::env::var(name).expect("cargo sets the package version");
    format!(
        "\n/* fphal's version (Cargo.toml); fphal_version() gives the loaded library's. */\n\
         #define FPHAL_VERSION_MAJOR {}\n#define FPHAL_VERSION_MINOR {}\n#define FPHAL_VERSION_PATCH {}\n\
         #define FPHAL_VERSION_STRING \"{}\"\n",
        v("CARGO_PKG_VERSION_MAJOR"),
        v("CARGO_PKG_VERSION_MINOR"),
        v("CARGO_PKG_VERSION_PATCH"),
        v("CARGO_PKG_VERSION"),
    )
}

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=include-src/aosp_types.h");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml parses");
    let aosp =
        std::fs::read_to_string(format!("{dir}/include-src/aosp_types.h")).expect("include-src/aosp_types.h exists");
    config.after_includes = Some(format!("{aosp}{}", version_macros()));
    match cbindgen::Builder::new().with_crate(&dir).with_config(config).generate() {
        Ok(bindings) => {
            bindings.write_to_file(format!("{out}/fphal.h"));
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}
