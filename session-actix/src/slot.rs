//! The per-request session slot the middleware leaves in the request for the extractor.

use std::cell::RefCell;
use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use session_core::{Refusal, SessionBackend, SessionState};

use crate::config::SessionConfig;
use crate::cookie::{read_sealed, read_session_id};
use crate::events::{EventKind, SessionEvent};
use crate::session::Session;

fn refused(kind: EventKind) -> SessionEvent {
    SessionEvent::new(kind, None, None)
}

/// What the middleware leaves in a request: the configuration to open the session with, and
/// the session once a handler (or the middleware) has taken it.
pub(crate) struct SessionSlot {
    pub(crate) config: Arc<SessionConfig>,
    /// Behind a `RefCell` so the extractor needs only a shared borrow of the request's
    /// extensions (a caller may hold one while extracting).
    pub(crate) session: RefCell<Option<Session>>,
}

impl SessionSlot {
    pub(crate) fn new(config: Arc<SessionConfig>) -> Self {
        Self {
            config,
            session: RefCell::new(None),
        }
    }

    /// The request's session, read from its cookie on the first call.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Session {
        let config = &self.config;
        self.session
            .borrow_mut()
            .get_or_insert_with(|| {
                let clock = Arc::clone(&config.clock);
                let (state, sealed) = match &config.backend {
                    SessionBackend::Sealed(_) => {
                        let sealed = read_sealed(headers, &config.cookie.name);
                        if sealed.value.is_none() && !sealed.names.is_empty() {
                            // Chunks without their whole: one went missing.
                            config.emit(EventKind::Refused(Refusal::Undecodable), refused);
                        }
                        (
                            SessionState::sealed(sealed.value.is_some(), clock),
                            Some(sealed),
                        )
                    }
                    _ => {
                        let origin = read_session_id(headers, &config.cookie.name).unwrap_or_else(
                            |refusal| {
                                config.emit(EventKind::Refused(refusal), refused);
                                None
                            },
                        );
                        (SessionState::with_clock(origin, clock), None)
                    }
                };
                Session::new(Arc::clone(config), state, sealed)
            })
            .clone()
    }
}
