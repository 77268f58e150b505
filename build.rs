//! Generates fphal.h into `OUT_DIR`: the AOSP declarations (include-src/aosp_types.h) followed by
//! fphal's own functions as cbindgen sees them. The committed include/fphal.h must equal it: a
//! test compares the two, and `scripts/refresh-header.sh` copies the generated one over.

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=include-src/aosp_types.h");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml parses");
    let aosp =
        std::fs::read_to_string(format!("{dir}/include-src/aosp_types.h")).expect("include-src/aosp_types.h exists");
    config.after_includes = Some(aosp);
    match cbindgen::Builder::new().with_crate(&dir).with_config(config).generate() {
        Ok(bindings) => {
            bindings.write_to_file(format!("{out}/fphal.h"));
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}
