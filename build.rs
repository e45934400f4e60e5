//! Generates the gRPC code from `proto/` (src/service/pb.rs includes it) and the encoded
//! descriptor set that server reflection serves. protox compiles the .proto files in Rust,
//! so building needs no system `protoc`.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["sealcheck/v1/sealcheck.proto"], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("sealcheck_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
