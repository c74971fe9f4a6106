//! The store acceptance suite against a single Redis node and against a Redis Cluster.

mod common;

mod single_node {
    store_acceptance::store_acceptance_tests!(|| async { super::common::single().await });
}

mod cluster {
    store_acceptance::store_acceptance_tests!(|| async { super::common::cluster().await });
}

mod single_node_users {
    store_acceptance::user_session_tests!(|| async { super::common::single().await });
}

mod cluster_users {
    store_acceptance::user_session_tests!(|| async { super::common::cluster().await });
}
