//! The parts of the `asyncapi-rs` command that are more than argument parsing, for its tests
//! and for tools that want them: the live contract runner and its JUnit report, the mock
//! server, a SAM or CloudFormation template's WebSocket API served here (`local_server`), and
//! values made up from a schema (what the mock sends, and what the corpus test judges
//! compiled validators on).

pub mod junit;
pub mod live;
pub mod local_server;
pub mod mock_server;
pub mod sample;
