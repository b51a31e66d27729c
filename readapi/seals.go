package readapi

import "github.com/gorilla/mux"

// SealReader reads seals and signature images (filled in by the seals read side).
type SealReader interface{}

func (a *api) registerSeals(r *mux.Router) {}
