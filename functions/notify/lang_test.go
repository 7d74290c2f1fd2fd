package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/elasticpool/elasticpool/functions/notify"
	"github.com/elasticpool/elasticpool/shared/events"
	sharednotify "github.com/elasticpool/elasticpool/shared/notify"
	"github.com/elasticpool/elasticpool/shared/notify/webhook"
)

// recorder is a channel that keeps what it was given.
type recorder struct {
	mu   sync.Mutex
	msgs []sharednotify.Message
}

func (r *recorder) Notify(_ context.Context, _ string, m sharednotify.Message) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return false, nil
}

func (r *recorder) last(t *testing.T) sharednotify.Message {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) == 0 {
		t.Fatal("nothing was sent")
	}
	return r.msgs[len(r.msgs)-1]
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// Every event type notify handles, through every branch of its texts,
// renders in every language: no missing text, no "<no value>", identifiers
// unchanged, and no text of the other language leaking in.
func TestEveryEventInEveryLanguage(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx := context.Background()
	var deviceID, strategyID int64
	if err := fx.db.QueryRow(ctx, `INSERT INTO devices (hostname, serial, status) VALUES ('node-17.bj1', 'SN17', 'idle') RETURNING id`).Scan(&deviceID); err != nil {
		t.Fatal(err)
	}
	if err := fx.db.QueryRow(ctx, `INSERT INTO elastic_scaling_strategies (name, threshold_trigger_action, cpu_threshold_value, cpu_threshold_type, cpu_target_value, duration_minutes)
		VALUES ('gpu-hot', 'pool_entry', 80, 'allocated', 60, 1440) RETURNING id`).Scan(&strategyID); err != nil {
		t.Fatal(err)
	}
	orderID := fx.order
	start, end := eventTime.Add(2*time.Hour), eventTime.Add(6*time.Hour)
	type want map[notify.Language][]string
	tests := []struct {
		name string
		typ  string
		data any
		want want // parts of the title + text, per language
	}{
		{"order created", events.TypeOrderCreated, events.OrderCreated{OrderID: fx.order, OrderNumber: fx.number, Action: "pool_entry", DeviceCount: 3},
			want{notify.LanguageZhCN: {"新建入池订单 EP-20261129-000001：bj-prod-1/general 3 台设备", "已创建入池订单", "操作类型：入池", "原因：cpu allocation 86% > 80% for 3 days"},
				notify.LanguageEnUS: {"New pool entry order EP-20261129-000001: 3 devices for bj-prod-1/general", "Action: pool entry"}}},
		{"order created by a strategy, order row gone", events.TypeOrderCreated, events.OrderCreated{OrderID: 9999, OrderNumber: "EP-20261129-000099",
			Action: "pool_exit", ClusterID: &fx.cluster, PoolID: &fx.gpuPool, StrategyID: &strategyID, DeviceCount: 1, CreatedBy: "system"},
			want{notify.LanguageZhCN: {"新建退池订单 EP-20261129-000099：bj-prod-1/gpu-a100 1 台设备", "策略「gpu-hot」创建了退池订单", "资源池：gpu-a100 (gpu)"},
				notify.LanguageEnUS: {"New pool exit order EP-20261129-000099: 1 device for bj-prod-1/gpu-a100", `Strategy "gpu-hot" opened a pool exit order`}}},
		{"status completed", events.TypeOrderStatusChanged, events.OrderStatusChanged{OrderID: fx.order, OrderNumber: fx.number, Action: "pool_entry",
			From: "processing", To: "completed", Actor: "bob"},
			want{notify.LanguageZhCN: {"订单 EP-20261129-000001 处理中 → 已完成（bj-prod-1/general）", "bob 将入池订单 EP-20261129-000001 从「处理中」变更为「已完成」。", "状态：处理中 → 已完成", "操作人：bob"},
				notify.LanguageEnUS: {"Order EP-20261129-000001 processing → completed (bj-prod-1/general)", "bob moved pool entry order EP-20261129-000001 from processing to completed."}}},
		{"status failed with a reason, by the system", events.TypeOrderStatusChanged, events.OrderStatusChanged{OrderID: fx.order, OrderNumber: fx.number,
			Action: "pool_entry", From: "processing", To: "failed", Reason: "drain node-3: timed out after 5m"},
			want{notify.LanguageZhCN: {"处理中 → 失败", "系统 将入池订单 EP-20261129-000001 从「处理中」变更为「失败」。失败原因：drain node-3: timed out after 5m", "失败原因：drain node-3: timed out after 5m"},
				notify.LanguageEnUS: {"processing → failed", "the system moved pool entry order EP-20261129-000001 from processing to failed. Failure reason: drain node-3: timed out after 5m", "Failure reason: drain"}}},
		{"status cancelled with a reason", events.TypeOrderStatusChanged, events.OrderStatusChanged{OrderID: fx.order, OrderNumber: fx.number,
			Action: "pool_entry", From: "pending", To: "cancelled", Actor: "carol", Reason: "duplicate"},
			want{notify.LanguageZhCN: {"待处理 → 已取消", "原因：duplicate"}, notify.LanguageEnUS: {"pending → cancelled", "Reason: duplicate"}}},
		{"maintenance order confirmed (status)", events.TypeOrderStatusChanged, events.OrderStatusChanged{OrderID: 4242, OrderNumber: "EP-20261129-000042",
			Action: "maintenance", From: "pending", To: "maintenance_in_progress", Actor: "dave"},
			want{notify.LanguageZhCN: {"订单 EP-20261129-000042 待处理 → 维护中", "dave 将维护订单"}, notify.LanguageEnUS: {"pending → in maintenance", "dave moved maintenance order"}}},
		{"shortage without an order", events.TypeInventoryShortage, events.InventoryShortage{StrategyID: strategyID, ClusterID: fx.cluster, PoolID: fx.gpuPool,
			Action: "pool_entry", Needed: 4, Found: 0},
			want{notify.LanguageZhCN: {"库存不足：bj-prod-1/gpu-a100 需要 4 台设备，可用 0 台", "未创建订单。", "策略：gpu-hot", "需要设备数：4", "找到设备数：0"},
				notify.LanguageEnUS: {"Inventory shortage: bj-prod-1/gpu-a100 needs 4 devices, 0 available", "No order was created."}}},
		{"shortage with an order", events.TypeInventoryShortage, events.InventoryShortage{StrategyID: strategyID, ClusterID: fx.cluster, PoolID: fx.pool,
			Action: "pool_entry", Needed: 1, Found: 0, OrderID: &orderID, Reason: "template matched nothing"},
			want{notify.LanguageZhCN: {"需要 1 台设备，可用 0 台", "已用找到的 0 台设备创建订单 EP-20261129-000001。", "原因：template matched nothing"},
				notify.LanguageEnUS: {"needs 1 device, 0 available", "Order EP-20261129-000001 was created with the 0 found."}}},
		{"shortage in a cluster that is gone", events.TypeInventoryShortage, events.InventoryShortage{ClusterID: 777, PoolID: 888, Action: "pool_exit", Needed: 2, Found: 1},
			want{notify.LanguageZhCN: {"集群 #777/资源池 #888", "退池"}, notify.LanguageEnUS: {"cluster #777/pool #888", "pool exit"}}},
		{"maintenance requested", events.TypeMaintenanceRequested, events.Maintenance{DeviceID: deviceID, ExternalSystem: "cmdb", ExternalTicketID: "CHG-42",
			Reason: "disk replacement", OrderID: fx.order, WindowStart: &start, WindowEnd: &end},
			want{notify.LanguageZhCN: {"维护请求：node-17.bj1（工单 CHG-42）", "cmdb 请求将 node-17.bj1 下线维护", "维护时间窗：2026-11-29 08:00 – 2026-11-29 12:00 CST", "外部工单号：CHG-42"},
				notify.LanguageEnUS: {"Maintenance requested: node-17.bj1 (ticket CHG-42)", "Window: 2026-11-29 08:00 – 2026-11-29 12:00 CST"}}},
		{"maintenance requested, system and device unknown", events.TypeMaintenanceRequested, events.Maintenance{DeviceID: 5555},
			want{notify.LanguageZhCN: {"维护请求：设备 #5555", "外部系统 请求将 设备 #5555 下线维护"}, notify.LanguageEnUS: {"Maintenance requested: device #5555", "An external system asked"}}},
		{"maintenance confirmed", events.TypeMaintenanceConfirmed, events.Maintenance{Hostname: "node-17.bj1", ExternalTicketID: "CHG-42"},
			want{notify.LanguageZhCN: {"维护已确认：node-17.bj1（工单 CHG-42）", "node-17.bj1 的维护已确认"}, notify.LanguageEnUS: {"Maintenance confirmed: node-17.bj1", "was confirmed"}}},
		{"maintenance completed", events.TypeMaintenanceCompleted, events.Maintenance{Hostname: "node-17.bj1", ExternalTicketID: "CHG-42", UncordonOrderID: 43},
			want{notify.LanguageZhCN: {"维护已完成：node-17.bj1", "恢复调度订单：#43"}, notify.LanguageEnUS: {"Maintenance completed: node-17.bj1", "Uncordon order: #43"}}},
		{"maintenance cancelled", events.TypeMaintenanceCancelled, events.Maintenance{Serial: "SN99", ExternalTicketID: "CHG-43"},
			want{notify.LanguageZhCN: {"维护已取消：SN99（工单 CHG-43）", "SN99 的维护已取消。"}, notify.LanguageEnUS: {"Maintenance cancelled: SN99 (ticket CHG-43)", "Maintenance of SN99 was cancelled."}}},
	}
	for _, lang := range notify.Languages() {
		rec := &recorder{}
		d := fx.deps(t)
		d.Email, d.Language = rec, lang
		f := notify.New(d)
		for i, tt := range tests {
			t.Run(string(lang)+"/"+tt.name, func(t *testing.T) {
				if tt.want[lang] == nil {
					t.Fatalf("no expectations for %s", lang)
				}
				if err := f.Handle(ctx, event(t, fmt.Sprintf("%s-%d", lang, i), tt.typ, tt.data)); err != nil {
					t.Fatalf("Handle: %v", err)
				}
				m := rec.last(t)
				all := m.Title + "\n" + m.Text
				for _, f := range m.Facts {
					all += "\n" + f.Name + "=" + f.Value
				}
				if !strings.HasPrefix(m.Title, "[elasticpool] ") {
					t.Errorf("title %q lacks the [elasticpool] tag the bell strips", m.Title)
				}
				for _, p := range tt.want[lang] {
					if !strings.Contains(all, p) {
						t.Errorf("lacks %q:\n%s", p, all)
					}
				}
				for _, bad := range []string{"<no value>", "%!", "{{"} {
					if strings.Contains(all+m.HTML, bad) {
						t.Errorf("contains %q:\n%s\n%s", bad, all, m.HTML)
					}
				}
				if !strings.Contains(m.HTML, `lang="`+string(lang)+`"`) {
					t.Errorf("HTML not marked %s", lang)
				}
				switch lang {
				case notify.LanguageZhCN:
					if !hasHan(m.Title) || !hasHan(m.Text) || m.Labels.Open != "在工作台中打开" || m.Labels.OnDuty != "值班人" {
						t.Errorf("not written in Chinese: %q\n%s\n%+v", m.Title, m.Text, m.Labels)
					}
					// Written words only: values, links and the event kind are identifiers.
					words := m.Title + "\n" + strings.SplitN(m.Text, "\n\n", 2)[0]
					for _, f := range m.Facts {
						words += "\n" + f.Name
					}
					for _, en := range []string{"Open in the workbench", "On duty", "order", "Order", "Reason", "Maintenance", "device", "ticket", "pool entry", "system"} {
						if strings.Contains(words, en) {
							t.Errorf("English %q left in the zh-CN text:\n%s", en, words)
						}
					}
				case notify.LanguageEnUS:
					if hasHan(all) || hasHan(m.HTML) {
						t.Errorf("Chinese in the en-US text:\n%s", all)
					}
				}
			})
		}
	}
}

// One zh-CN message end to end, as a person gets it: the email (subject and
// plain text through a real SMTP server), the DingTalk robot's markdown, and
// the in-app row the bell shows.
func TestChineseEmailAndDingTalkGolden(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ding := newHook(t, `{"errcode":0,"errmsg":"ok"}`)
	w, err := webhook.New(webhook.Config{Name: "ops-ding", URL: ding.URL + "/robot/send?access_token=" + hookToken, Format: "dingtalk"})
	if err != nil {
		t.Fatal(err)
	}
	d := fx.deps(t)
	d.Language = notify.LanguageZhCN
	d.Webhooks = map[string]sharednotify.Notifier{"ops-ding": w}
	f := notify.New(d)
	if err := f.Handle(context.Background(), fx.orderCreated(t, "evt-zh")); err != nil {
		t.Fatal(err)
	}
	link := fmt.Sprintf("%s/orders/%d", uiBase, fx.order)
	wantSubject := "[elasticpool] 新建入池订单 EP-20261129-000001：bj-prod-1/general 3 台设备"
	wantText := `已创建入池订单，等待值班工程师在工作台处理。

订单号：EP-20261129-000001
操作类型：入池
集群：bj-prod-1
资源池：general
设备数量：3
创建者：system
原因：cpu allocation 86% > 80% for 3 days

在工作台中打开：` + link + `

值班人：alice

--
elasticpool · order.created · 2026-11-29 06:00 CST · 事件 evt-zh`
	mails := fx.smtp.Messages()
	if len(mails) != 1 {
		t.Fatalf("got %d mails, want 1", len(mails))
	}
	if got := mails[0].Subject; got != wantSubject {
		t.Errorf("subject:\ngot  %q\nwant %q", got, wantSubject)
	}
	if got := strings.TrimSpace(strings.ReplaceAll(mails[0].Text, "\r\n", "\n")); got != wantText {
		t.Errorf("text:\ngot\n%s\nwant\n%s", got, wantText)
	}
	for _, p := range []string{`<html lang="zh-CN">`, `>在工作台中打开</a>`, "值班人：alice", "cpu allocation 86% &gt; 80% for 3 days", "事件 evt-zh"} {
		if !strings.Contains(mails[0].HTML, p) {
			t.Errorf("HTML lacks %q:\n%s", p, mails[0].HTML)
		}
	}

	if ding.count() != 1 {
		t.Fatalf("got %d DingTalk calls, want 1", ding.count())
	}
	body := ding.bodies[0][strings.Index(ding.bodies[0], " ")+1:]
	var p struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
		At struct {
			AtMobiles []string `json:"atMobiles"`
		} `json:"at"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	wantMarkdown := "### " + wantSubject + `

- **订单号**: EP-20261129-000001
- **操作类型**: 入池
- **集群**: bj-prod-1
- **资源池**: general
- **设备数量**: 3
- **创建者**: system
- **原因**: cpu allocation 86% > 80% for 3 days

[在工作台中打开](` + link + `)

值班人: @13800000000`
	if p.MsgType != "markdown" || p.Markdown.Title != wantSubject || p.Markdown.Text != wantMarkdown || len(p.At.AtMobiles) != 1 {
		t.Errorf("DingTalk message:\ngot  %+v\nwant title %q text\n%s", p, wantSubject, wantMarkdown)
	}

	// The bell strips the tag and shows the first paragraph.
	var title, text string
	if err := fx.db.QueryRow(context.Background(), `SELECT title, body FROM notifications WHERE recipient = 'alice'`).Scan(&title, &text); err != nil {
		t.Fatal(err)
	}
	if title != wantSubject || strings.SplitN(text, "\n\n", 2)[0] != "已创建入池订单，等待值班工程师在工作台处理。" {
		t.Errorf("in-app: got title %q body %q", title, text)
	}
}
