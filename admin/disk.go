package admin

// Disk is the file system that holds the data directory, in Status.
type Disk struct {
	Path       string `json:"path"`
	TotalBytes int64  `json:"total_bytes"`
	FreeBytes  int64  `json:"free_bytes"` // available to the daemon
}
