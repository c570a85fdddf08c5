//! Participant data leaves this crate sealed. A [`Sealed<T>`] opens only with an [`Audited`]
//! proof, and only this crate makes such a proof: in the functions that write an audit row
//! (`audit::disclosed`, `audit::record_many`, and the writes whose statement carries their audit
//! row). So no use case can hand out a participant's data without the audit row of that
//! disclosure (docs/security.md, "Review findings of 2026-12", 2).

/// Proof that an audit row was written for a disclosure of participant data, in the
/// transaction or statement that produced the data.
#[derive(Debug)]
pub struct Audited(());

impl Audited {
    pub(crate) fn new() -> Self {
        Audited(())
    }
}

/// Participant data as read: [`open`](Self::open) it with the proof that its audit row is
/// written. A sealed value that is never opened was read for nothing.
#[derive(Debug)]
#[must_use = "participant data read but not disclosed: read only what is answered"]
pub struct Sealed<T>(pub(crate) T);

impl<T> Sealed<T> {
    pub(crate) fn new(v: T) -> Self {
        Sealed(v)
    }

    /// The data, for an answer whose audit row `_proof` stands for.
    pub fn open(self, _proof: &Audited) -> T {
        self.0
    }

    /// A fact the use case needs before it can write the audit row or decide (whether the
    /// record exists, which participant it is, its version): never the data itself.
    pub fn fact<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Sealed<U> {
        Sealed(f(self.0))
    }
}

impl<T> Sealed<Option<T>> {
    /// `None` when there is nothing (nothing to disclose, nothing to audit).
    pub fn transpose(self) -> Option<Sealed<T>> {
        self.0.map(Sealed)
    }
}
