//! The store acceptance suite against a single Redis node and against a Redis Cluster, in real
//! time: Redis enforces TTLs on its own clock, so the expiry rules sleep (briefly).

mod common;

mod single_node {
    store_acceptance::store_acceptance_tests!(store_acceptance::time::Time::Real, |_| async {
        super::common::single().await
    });
}

mod cluster {
    store_acceptance::store_acceptance_tests!(store_acceptance::time::Time::Real, |_| async {
        super::common::cluster().await
    });
}

mod single_node_users {
    store_acceptance::user_session_tests!(store_acceptance::time::Time::Real, |_| async {
        super::common::single().await
    });
}

mod cluster_users {
    store_acceptance::user_session_tests!(store_acceptance::time::Time::Real, |_| async {
        super::common::cluster().await
    });
}
