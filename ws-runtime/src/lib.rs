//! ws-runtime: skeleton until its issue lands.
