//! The connection registry: connection and event ids, the connections of this node (send,
//! broadcast, groups, backlogs), and cluster mode, which makes every node's registry one.

pub(crate) mod cluster;
pub(crate) mod connections;
pub(crate) mod ids;
