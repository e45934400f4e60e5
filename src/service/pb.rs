//! The messages and service stubs generated from `proto/` by build.rs.

#![allow(clippy::all, clippy::pedantic)]

/// The packages, nested as the generated code refers to each other.
pub mod generated {
    pub mod sealcheck {
        pub mod v1 {
            tonic::include_proto!("sealcheck.v1");
        }
    }
    pub mod google {
        pub mod rpc {
            tonic::include_proto!("google.rpc");
        }
    }
}

pub use generated::google::rpc::Status as RpcStatus;
pub use generated::sealcheck::v1::*;

/// The encoded descriptors of every file, imports included, that server reflection serves.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("sealcheck_descriptor");
