//! The parts of the `asyncapi-rs` command that are more than argument parsing, for its tests
//! and for tools that want them: the live contract runner and its JUnit report, and the mock
//! server.

pub mod junit;
pub mod live;
pub mod mock_server;
mod sample;
