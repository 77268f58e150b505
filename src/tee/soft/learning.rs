//! Template update: a confident match on skin that no view shows yet joins the finger's template.

use super::ActiveGroup;
use crate::matcher::{self, Features, Template, ViewMatch};
use crate::tee::wire::TaError;

pub(super) struct Learning {
    /// The score a match needs to be learned from.
    pub min_score: f32,
    /// The views a template may grow to.
    pub max_views: u32,
}

impl Learning {
    /// Whether a matching capture should join its finger's template: a confident match on the
    /// enrolled views themselves, room left, and skin that no view shows yet. The enrolled views
    /// vouch for every update, so that updates cannot build on each other and drift, one capture
    /// at a time, onto skin that is not the finger's.
    pub(super) fn worth_it(&self, features: &Features, matches: &[ViewMatch], template: &Template) -> bool {
        let enrolled = &matches[..template.enrolled_views().min(matches.len())];
        matcher::score_of(enrolled) >= self.min_score
            && template.view_count() < self.max_views as usize
            && matcher::shows_new_skin(features, template, matches)
    }

    /// Adds a capture to finger `fid`'s template and stores it. The authenticator id stays: the
    /// set of fingers has not changed.
    pub(super) fn learn(group: &mut ActiveGroup, fid: u32, features: Features) -> Result<(), TaError> {
        let Some(finger) = group.fingers.iter_mut().find(|f| f.fid == fid) else { return Ok(()) };
        if finger.template.add_view(features) {
            group.store.write_template(fid, finger.user_id, &finger.template.to_bytes()).map_err(TaError::Internal)?;
            log::info!(
                "finger {fid}: template updated from a confident match, now {} views",
                finger.template.view_count()
            );
        }
        Ok(())
    }
}
