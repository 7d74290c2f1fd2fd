package smtptest

import (
	"encoding/base64"
	"io"
	"strings"
)

// base64Reader decodes a base64 body whose lines are wrapped at 76 columns.
func base64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &stripNewlines{r: r})
}

type stripNewlines struct{ r io.Reader }

func (s *stripNewlines) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		if n == 0 {
			return 0, err
		}
		kept := strings.NewReplacer("\r", "", "\n", "").Replace(string(p[:n]))
		copy(p, kept)
		if len(kept) > 0 || err != nil {
			return len(kept), err
		}
	}
}
