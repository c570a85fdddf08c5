//! The web application over plain HTTP (no browser): sessions, CSRF and origin checks, redirects
//! after sign-in, access per role and organisation, headers.
