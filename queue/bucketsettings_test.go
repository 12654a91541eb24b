package queue

import (
	"errors"
	"testing"
)

func TestBucketSettingSurvivesRestartAndGoesWithBucket(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testConfig(dir))
	ctx := ctxT(t)
	if err := n.SetBucketSetting(ctx, "nope", SettingCORS, "x"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("setting of a missing bucket: %v, want ErrNoSuchBucket", err)
	}
	mustBucket(t, n, "b")
	const cors = "<CORSConfiguration><CORSRule/></CORSConfiguration>"
	if err := n.SetBucketSetting(ctx, "b", SettingCORS, cors); err != nil {
		t.Fatal(err)
	}
	if err := n.SetBucketSetting(ctx, "b", SettingTagging, "t"); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	n = openNode(t, testConfig(dir))
	if v, ok, err := n.BucketSetting("b", SettingCORS); err != nil || !ok || v != cors {
		t.Fatalf("after restart: %q %v %v, want the stored configuration", v, ok, err)
	}
	if err := n.SetBucketSetting(ctx, "b", SettingCORS, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := n.BucketSetting("b", SettingCORS); ok {
		t.Fatal("removed setting still there")
	}
	if v, ok, _ := n.BucketSetting("b", SettingTagging); !ok || v != "t" {
		t.Fatalf("other setting: %q %v", v, ok)
	}
	if err := n.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, n, "b")
	if _, ok, _ := n.BucketSetting("b", SettingTagging); ok {
		t.Fatal("a re-created bucket kept the deleted bucket's setting")
	}
	big := make([]byte, MaxSettingValueLen+1)
	if err := n.SetBucketSetting(ctx, "b", SettingCORS, string(big)); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("oversized setting: %v, want ErrInvalidCommand", err)
	}
}
