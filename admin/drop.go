package admin

// Drop is the state of the drop folders in Status.
type Drop struct {
	// Skipped are the first-level directories of folders without a bucket that
	// are not archived because their names are not valid bucket names.
	Skipped []SkippedDir `json:"skipped_dirs"`
}

// SkippedDir is one refused directory: nothing in it is archived until it is
// renamed to a valid bucket name (Suggestion, when there is an obvious one).
type SkippedDir struct {
	Folder     string `json:"folder"`
	Dir        string `json:"dir"`
	Reason     string `json:"reason"`
	Suggestion string `json:"suggestion,omitempty"`
}
