//! rust-embed's include_bytes! calls make cargo notice edited files, not added or removed ones:
//! watch the folder itself too.
fn main() {
    println!("cargo:rerun-if-changed=assets");
}
