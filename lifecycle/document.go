package lifecycle

import (
	"encoding/xml"
	"strconv"
)

// document is a PutBucketLifecycleConfiguration body as sent: every element
// of S3's schema, so that Parse can tell an element it does not apply
// (NotImplemented) from one S3 does not know (MalformedXML, through Unknown).
type document struct {
	XMLName xml.Name       `xml:"LifecycleConfiguration"`
	Rules   []documentRule `xml:"Rule"`
	Unknown []element      `xml:",any"`
}

// element is any XML element, known by its name only.
type element struct {
	XMLName xml.Name
}

type documentRule struct {
	ID                             *string            `xml:"ID"`
	Filter                         *documentFilter    `xml:"Filter"`
	Prefix                         *string            `xml:"Prefix"`
	Status                         string             `xml:"Status"`
	Expiration                     *documentExpiry    `xml:"Expiration"`
	Transition                     []element          `xml:"Transition"`
	NoncurrentVersionTransition    []element          `xml:"NoncurrentVersionTransition"`
	NoncurrentVersionExpiration    *documentNoncurr   `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *documentAbortDays `xml:"AbortIncompleteMultipartUpload"`
	Unknown                        []element          `xml:",any"`
}

type documentFilter struct {
	Prefix                *string   `xml:"Prefix"`
	Tag                   []element `xml:"Tag"`
	And                   []element `xml:"And"`
	ObjectSizeGreaterThan *string   `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *string   `xml:"ObjectSizeLessThan"`
	Unknown               []element `xml:",any"`
}

type documentExpiry struct {
	Date                      *string   `xml:"Date"`
	Days                      *string   `xml:"Days"`
	ExpiredObjectDeleteMarker *string   `xml:"ExpiredObjectDeleteMarker"`
	Unknown                   []element `xml:",any"`
}

type documentNoncurr struct {
	NoncurrentDays          *string   `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *string   `xml:"NewerNoncurrentVersions"`
	Unknown                 []element `xml:",any"`
}

type documentAbortDays struct {
	DaysAfterInitiation *string   `xml:"DaysAfterInitiation"`
	Unknown             []element `xml:",any"`
}

// rule checks a rule as sent and returns it.
func (d *documentRule) rule() (Rule, error) {
	if len(d.Unknown) > 0 || (d.Status != StatusEnabled && d.Status != StatusDisabled) {
		return Rule{}, errMalformedXML
	}
	r := Rule{Status: d.Status, Prefix: d.Prefix}
	if d.ID != nil {
		if len(*d.ID) > MaxIDLen {
			return Rule{}, invalidArgument("ID length should not exceed allowed limit of 255")
		}
		r.ID = *d.ID
	}
	if (d.Filter == nil) == (d.Prefix == nil) {
		return Rule{}, errMalformedXML // one of the two, as S3's schema says
	}
	if d.Filter != nil {
		f, err := d.Filter.filter()
		if err != nil {
			return Rule{}, err
		}
		r.Filter = f
	}
	switch {
	case len(d.Transition) > 0:
		return Rule{}, notImplemented("Transition")
	case len(d.NoncurrentVersionTransition) > 0:
		return Rule{}, notImplemented("NoncurrentVersionTransition")
	}
	var err error
	if d.Expiration != nil {
		if r.Expiration, err = d.Expiration.expiration(); err != nil {
			return Rule{}, err
		}
	}
	if d.NoncurrentVersionExpiration != nil {
		if r.NoncurrentVersionExpiration, err = d.NoncurrentVersionExpiration.expiration(); err != nil {
			return Rule{}, err
		}
	}
	if a := d.AbortIncompleteMultipartUpload; a != nil {
		if len(a.Unknown) > 0 {
			return Rule{}, errMalformedXML
		}
		days, err := positive(a.DaysAfterInitiation, "DaysAfterInitiation", "AbortIncompleteMultipartUpload")
		if err != nil {
			return Rule{}, err
		}
		r.AbortIncompleteMultipartUpload = &AbortIncompleteMultipartUpload{DaysAfterInitiation: days}
	}
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil {
		return Rule{}, errNoAction
	}
	return r, nil
}

// filter checks a Filter: at most one of its members, and only Prefix is
// applied.
func (d *documentFilter) filter() (*Filter, error) {
	members := len(d.Tag) + len(d.And)
	for _, p := range []*string{d.Prefix, d.ObjectSizeGreaterThan, d.ObjectSizeLessThan} {
		if p != nil {
			members++
		}
	}
	if len(d.Unknown) > 0 || members > 1 {
		return nil, errMalformedXML
	}
	switch {
	case len(d.Tag) > 0:
		return nil, notImplemented("Filter/Tag")
	case len(d.And) > 0:
		return nil, notImplemented("Filter/And")
	case d.ObjectSizeGreaterThan != nil:
		return nil, notImplemented("Filter/ObjectSizeGreaterThan")
	case d.ObjectSizeLessThan != nil:
		return nil, notImplemented("Filter/ObjectSizeLessThan")
	}
	return &Filter{Prefix: d.Prefix}, nil
}

// expiration checks an Expiration: only ExpiredObjectDeleteMarker is
// applied; expiring current objects (Days, Date) is not.
func (d *documentExpiry) expiration() (*Expiration, error) {
	if len(d.Unknown) > 0 {
		return nil, errMalformedXML
	}
	switch {
	case d.Days != nil:
		return nil, notImplemented("Expiration/Days")
	case d.Date != nil:
		return nil, notImplemented("Expiration/Date")
	case d.ExpiredObjectDeleteMarker == nil:
		return nil, errMalformedXML
	}
	v := *d.ExpiredObjectDeleteMarker == "true"
	if !v && *d.ExpiredObjectDeleteMarker != "false" {
		return nil, errMalformedXML
	}
	return &Expiration{ExpiredObjectDeleteMarker: &v}, nil
}

func (d *documentNoncurr) expiration() (*NoncurrentVersionExpiration, error) {
	if len(d.Unknown) > 0 {
		return nil, errMalformedXML
	}
	const action = "NoncurrentVersionExpiration"
	days, err := positive(d.NoncurrentDays, "NoncurrentDays", action)
	if err != nil {
		return nil, err
	}
	e := &NoncurrentVersionExpiration{NoncurrentDays: days}
	if d.NewerNoncurrentVersions != nil {
		n, err := positive(d.NewerNoncurrentVersions, "NewerNoncurrentVersions", action)
		if err != nil {
			return nil, err
		}
		if n > MaxNewerNoncurrentVersions {
			return nil, invalidArgument("'NewerNoncurrentVersions' for " + action +
				" action must be at most " + strconv.Itoa(MaxNewerNoncurrentVersions))
		}
		e.NewerNoncurrentVersions = &n
	}
	return e, nil
}
