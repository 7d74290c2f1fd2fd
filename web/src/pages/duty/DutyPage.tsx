// 值班表: who is on duty each week (notifications of orders and shortages go to them).
import { App, Button, Col, DatePicker, Form, Input, Popconfirm, Row, Space, Tag } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { typed } from '../../api/typed';
import type { DutyEntry } from '../../api/models';
import { RoleGate } from '../../components/Permission';
import { CursorTable } from '../../components/CursorTable';
import { FormModal } from '../../components/FormModal';
import { fmtDay } from '../../lib/format';
import { keys } from '../../lib/queries';
import { useTypedList } from '../../lib/useCursorList';

interface Values {
  week: Dayjs;
  person: string;
  email?: string;
  phone?: string;
  chatId?: string;
}

/** The Monday of d's week. */
export function mondayOf(d: Dayjs): string {
  const dow = (d.day() + 6) % 7;
  return d.subtract(dow, 'day').format('YYYY-MM-DD');
}

export default function DutyPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const list = useTypedList(keys.duty, '/duty-roster', { sort: '-weekStart' });
  const onDuty = useQuery({ queryKey: [...keys.duty, 'on-duty'], queryFn: () => typed.get('/duty-roster/on-duty') });
  const thisWeek = mondayOf(dayjs());
  const del = useMutation({
    mutationFn: (d: DutyEntry) => typed.del('/duty-roster/{id}', { path: { id: d.id } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.duty }),
    onError: (e) => message.error((e as Error).message),
  });
  return (
    <div>
      <div className="page-header">
        <Space>
          <h2>{t('nav.duty')}</h2>
          {onDuty.data?.people?.length ? (
            <Tag color="green" data-testid="on-duty">
              {t('duty.current')}: {onDuty.data.people.map((p) => p.person).join(', ')}
            </Tag>
          ) : null}
        </Space>
        <RoleGate>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpen(true)} data-testid="duty-add">
            {t('duty.add')}
          </Button>
        </RoleGate>
      </div>
      <CursorTable<DutyEntry>
        rowKey="id"
        list={list}
        columns={[
          {
            title: t('duty.weekStart'),
            dataIndex: 'weekStart',
            render: (v) => (
              <>
                {fmtDay(v)} {fmtDay(v) === thisWeek ? <Tag color="green">{t('duty.current')}</Tag> : null}
              </>
            ),
          },
          { title: t('duty.person'), dataIndex: 'person' },
          { title: t('duty.email'), dataIndex: 'email' },
          { title: t('duty.phone'), dataIndex: 'phone' },
          { title: t('duty.chatId'), dataIndex: 'chatId' },
          {
            title: t('common.actions'),
            render: (_, d) => (
              <RoleGate>
                <Popconfirm title={t('common.confirmDelete')} onConfirm={() => del.mutate(d)} okText={t('common.ok')} cancelText={t('common.cancel')}>
                  <Button size="small" danger>
                    {t('common.delete')}
                  </Button>
                </Popconfirm>
              </RoleGate>
            ),
          },
        ]}
      />
      <FormModal<Values>
        open={open}
        title={t('duty.add')}
        testId="duty-form"
        initial={{ week: dayjs() }}
        onClose={() => setOpen(false)}
        onSubmit={async (v) => {
          await typed.post('/duty-roster', {
            weekStart: mondayOf(v.week),
            person: v.person,
            email: v.email ?? '',
            phone: v.phone ?? '',
            chatId: v.chatId ?? '',
          });
          message.success(t('common.saved'));
          await qc.invalidateQueries({ queryKey: keys.duty });
        }}
      >
        {() => (
          <>
            <Form.Item name="week" label={t('duty.weekStart')} rules={[{ required: true }]}>
              <DatePicker picker="week" style={{ width: '100%' }} />
            </Form.Item>
            <Form.Item name="person" label={t('duty.person')} rules={[{ required: true, whitespace: true }]}>
              <Input data-testid="duty-person" />
            </Form.Item>
            <Row gutter={12}>
              <Col span={12}>
                <Form.Item name="email" label={t('duty.email')} rules={[{ type: 'email' }]}>
                  <Input data-testid="duty-email" />
                </Form.Item>
              </Col>
              <Col span={12}>
                <Form.Item name="phone" label={t('duty.phone')}>
                  <Input />
                </Form.Item>
              </Col>
            </Row>
            <Form.Item name="chatId" label={t('duty.chatId')}>
              <Input />
            </Form.Item>
          </>
        )}
      </FormModal>
    </div>
  );
}
