package sqlite

// GroupCommits reports how many commits stored events and how many append
// requests they answered, for the benchmark's events/commit figure.
func GroupCommits(s *Store) (commits, requests uint64) {
	return s.commits.Load(), s.committed.Load()
}
