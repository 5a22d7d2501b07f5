//! The parts of the `asyncapi-rs` command that are more than argument parsing, for its tests
//! and for tools that want them: the live contract runner and its JUnit report.

pub mod junit;
pub mod live;
