//! The acceptance suite every session store runs, written once.
//!
//! A store crate instantiates it in an integration test with the time the store runs in and a
//! factory that takes the clock to give the store and returns a fresh, isolated store:
//!
//! ```text
//! use store_acceptance::time::Time;
//!
//! store_acceptance::store_acceptance_tests!(Time::test(), |clock| async move {
//!     store_memory::MemoryStore::builder().clock(clock).build()
//! });
//! ```
//!
//! Each rule of the design (strict IDs, delta writes, store-enforced expiry, no resurrection of a
//! deleted session, flash removal persisted, bad values left intact) becomes one `#[test]`
//! named after the rule, so a failing backend shows exactly which rule it breaks. The rules are
//! plain async functions in [`rules`] and [`user_rules`], so one can also run on its own:
//!
//! ```
//! use std::sync::Arc;
//! use store_acceptance::time::Time;
//!
//! let time = Time::test();
//! let store = store_memory::MemoryStore::builder().clock(time.clock()).build();
//! // Lets the idle timeout run out by moving the test clock: no sleep.
//! store_acceptance::run(store_acceptance::rules::expired_session_loads_as_none(
//!     Arc::new(store),
//!     time,
//! ));
//! ```
//!
//! - [`time`]: the time a check runs in. [`Time::test()`](time::Time::test) is a test clock
//!   that the check moves when it lets time pass, given to the store and to every request's
//!   state, so expiry is tested without sleeping and with timeouts of minutes.
//!   [`Time::Real`](time::Time::Real) is the system clock, for Redis, whose server enforces TTLs
//!   on its own clock: there a check sleeps, so its timeouts stay short.
//! - [`interleave`]: the interleaving harness. [`Interleaved`](interleave::Interleaved) wraps a
//!   store and holds a chosen call before or after the store runs it, until released, so a check
//!   places one request's store calls between another's deterministically.
//! - [`schedules`]: the schedule table. Races of two requests of one session (and an admin's
//!   revocation) at fixed hold points, each checking invariants (no lost write, nothing comes
//!   back, deadlines only move forward, revocation wins);
//!   [`interleaving_tests!`](crate::interleaving_tests) makes one `#[test]` per schedule.
//! - [`model`]: the property test. Random schedules of a few requests (loads, commits,
//!   revocations, time passing), checked after every step against a reference model of what
//!   the store must hold; a store's test calls
//!   [`check_random_schedules`](model::check_random_schedules).
//!
//! The [`doubles`] module has store wrappers for the framework tests: one that counts calls and
//! one that fails on demand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod doubles;
pub mod interleave;
pub mod model;
pub mod rules;
pub mod schedules;
pub mod time;
pub mod user_rules;

/// Runs one check on a fresh multi-threaded runtime. Used by [`store_acceptance_tests!`].
pub fn run<F: std::future::Future<Output = ()>>(check: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(check);
}

/// Generates one `#[test]` per store rule of [`rules`], each on a fresh store.
///
/// `$time` is a [`Time`](crate::time::Time): `Time::test()` for a store that reads the clock it
/// is given (the expiry rules then move that clock instead of sleeping), `Time::Real` for one
/// whose server enforces expiry on its own clock. `$factory` takes the
/// [`SharedClock`](session_core::clock::SharedClock) to give the store and returns a future of
/// the store.
///
/// A store to which some rules cannot apply (a stateless one) lists the rules it runs instead:
/// `store_acceptance_tests!(@each time, factory; rule_a, rule_b)`, and says why the others do
/// not apply.
#[macro_export]
macro_rules! store_acceptance_tests {
    ($time:expr, $factory:expr) => {
        $crate::store_acceptance_tests!(@each $time, $factory;
            create_then_load_round_trips_typed_values,
            unknown_id_loads_none,
            create_never_overwrites_a_live_session,
            update_applies_only_the_delta,
            update_with_clear_replaces_all_data,
            concurrent_updates_of_different_keys_all_survive,
            update_of_missing_session_does_not_create_it,
            deleted_session_is_never_recreated,
            expired_session_loads_as_none,
            touch_extends_the_idle_deadline,
            nothing_extends_past_the_absolute_deadline,
            renew_moves_data_to_a_new_id,
            flash_is_read_once_and_its_removal_persisted,
            bad_typed_read_is_an_error_and_leaves_data_intact,
            write_to_a_vanished_session_starts_a_new_one,
            purge_then_write_starts_a_new_session,
            unknown_cookie_id_is_never_adopted,
            take_reads_and_deletes_in_one_step,
            renew_applies_the_delta_and_keeps_the_absolute_deadline,
            a_restarting_renew_sets_both_deadlines,
            renew_of_a_deleted_or_expired_session_moves_nothing
        );
    };
    (@each $time:expr, $factory:expr; $($rule:ident),+ $(,)?) => {
        $(
            #[test]
            fn $rule() {
                $crate::run(async {
                    let time: $crate::time::Time = $time;
                    let store = ($factory)(time.clock()).await;
                    let store: ::std::sync::Arc<dyn $crate::__private::SessionStore> =
                        ::std::sync::Arc::new(store);
                    $crate::rules::$rule(store, time).await;
                });
            }
        )+
    };
}

/// Generates one `#[test]` per rule of [`UserSessionStore`](session_core::UserSessionStore)
/// (listing and revoking a user's sessions, [`user_rules`]), each on a fresh store. `$time` and
/// `$factory` are as for [`store_acceptance_tests!`].
#[macro_export]
macro_rules! user_session_tests {
    ($time:expr, $factory:expr) => {
        $crate::user_session_tests!(@each $time, $factory;
            sessions_of_lists_the_users_live_sessions,
            revoke_ends_one_session,
            revoke_all_ends_every_session_of_the_user,
            revoke_all_except_keeps_the_current_session,
            set_user_renews_and_expired_sessions_leave_the_listing
        );
    };
    (@each $time:expr, $factory:expr; $($rule:ident),+ $(,)?) => {
        $(
            #[test]
            fn $rule() {
                $crate::run(async {
                    let time: $crate::time::Time = $time;
                    let store = ($factory)(time.clock()).await;
                    let store: ::std::sync::Arc<dyn $crate::__private::UserSessionStore> =
                        ::std::sync::Arc::new(store);
                    $crate::user_rules::$rule(store, time).await;
                });
            }
        )+
    };
}

#[doc(hidden)]
pub mod __private {
    pub use session_core::{SessionStore, UserSessionStore};
}
