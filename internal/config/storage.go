package config

import "github.com/rookery-mail/rookery/internal/diskspace"

// Storage configures the node's use of the disk under data_dir.
type Storage struct {
	// MinFree is the free space kept for deliveries: below it, background
	// work (the full-text indexer) pauses. A size ("1GiB", "500MB") or a
	// percentage of the file system ("5%"); by default the smaller of
	// 1 GiB and 5%.
	MinFree diskspace.Reserve `toml:"min_free"`
}
