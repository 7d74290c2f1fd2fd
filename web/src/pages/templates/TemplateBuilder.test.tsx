import { describe, expect, it } from 'vitest';
import { fireEvent, screen, within } from '@testing-library/react';
import { useState } from 'react';
import type { Template } from '../../api/models';
import { emptyTemplate, opsFor, toTemplateJSON, validateTemplate } from '../../lib/template';
import { renderWithApp } from '../../test/render';
import i18n from '../../i18n';
import { TemplateBuilder } from './TemplateBuilder';

function Harness({ initial }: { initial: Template }) {
  const [t, setT] = useState(initial);
  return (
    <>
      <TemplateBuilder value={t} onChange={setT} />
      <pre data-testid="out">{JSON.stringify(toTemplateJSON(t))}</pre>
    </>
  );
}

const out = () => JSON.parse(screen.getByTestId('out').textContent ?? '') as Template;

/** Picks an option of the antd Select with the given test id. */
function choose(testId: string, label: string) {
  const sel = screen.getByTestId(testId);
  fireEvent.mouseDown(within(sel).getByRole('combobox'));
  const opts = Array.from(document.querySelectorAll('.ant-select-item-option')).filter((o) => o.textContent === label);
  fireEvent.click(opts[opts.length - 1]);
}

describe('TemplateBuilder', () => {
  it('produces the template JSON of DESIGN §6 as the user edits', async () => {
    await i18n.changeLanguage('en-US');
    renderWithApp(<Harness initial={emptyTemplate()} />);
    // block 0: cpuCores gte 64 (the default block is device/cpuCores/gte)
    fireEvent.change(screen.getByTestId('block-value-0-0'), { target: { value: ' 64 ' } });
    // block 1: nodeLabel gpu exists
    fireEvent.click(screen.getByTestId('add-block-0'));
    choose('block-type-0-1', 'Node label');
    fireEvent.change(screen.getByTestId('block-key-0-1'), { target: { value: 'gpu' } });
    choose('block-op-0-1', 'exists');
    // block 2: taint dedicated eq ai:NoSchedule
    fireEvent.click(screen.getByTestId('add-block-0'));
    choose('block-type-0-2', 'Node taint');
    fireEvent.change(screen.getByTestId('block-key-0-2'), { target: { value: 'dedicated' } });
    fireEvent.change(screen.getByTestId('block-value-0-2'), { target: { value: 'ai:NoSchedule' } });
    // the group's blocks are ORed
    fireEvent.click(within(screen.getByTestId('group-0')).getByText('OR'));

    expect(out()).toEqual({
      logic: 'AND',
      groups: [
        {
          logic: 'OR',
          blocks: [
            { type: 'device', key: 'cpuCores', op: 'gte', value: '64' },
            { type: 'nodeLabel', key: 'gpu', op: 'exists' },
            { type: 'taint', key: 'dedicated', op: 'eq', value: 'ai:NoSchedule' },
          ],
        },
      ],
    });
  });

  it('adds and removes groups and switches the logic between them', async () => {
    await i18n.changeLanguage('en-US');
    renderWithApp(<Harness initial={emptyTemplate()} />);
    fireEvent.click(screen.getByTestId('add-group'));
    fireEvent.change(screen.getByTestId('block-value-1-0'), { target: { value: '8' } });
    fireEvent.click(within(screen.getByTestId('template-logic')).getByText('OR'));
    expect(out().logic).toBe('OR');
    expect(out().groups).toHaveLength(2);
    fireEvent.click(within(screen.getByTestId('group-0')).getByRole('button', { name: 'Remove group' }));
    expect(out().groups).toEqual([{ logic: 'AND', blocks: [{ type: 'device', key: 'cpuCores', op: 'gte', value: '8' }] }]);
  });

  it('offers only the ops valid for the field', () => {
    expect(opsFor('device', 'cpuCores')).toEqual(['eq', 'ne', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte']);
    expect(opsFor('device', 'hostname')).toEqual(['eq', 'ne', 'in', 'notIn', 'exists', 'notExists', 'contains', 'prefix']);
    expect(opsFor('device', 'clusterId')).toContain('exists');
    expect(opsFor('taint', 'x')).toEqual(['eq', 'ne', 'exists', 'notExists']);
  });

  it('locates client-side problems with the API’s paths', () => {
    const errs = validateTemplate({
      logic: 'AND',
      groups: [
        { logic: 'AND', blocks: [{ type: 'device', key: 'cpuCores', op: 'gte', value: 'lots' }] },
        { logic: 'AND', blocks: [] },
      ],
    });
    expect(errs).toEqual([
      { path: 'groups[0].blocks[0].value', code: 'number' },
      { path: 'groups[1].blocks', code: 'noBlocks' },
    ]);
  });

  it('shows API errors on the block they locate', async () => {
    await i18n.changeLanguage('en-US');
    const t: Template = { logic: 'AND', groups: [{ logic: 'AND', blocks: [{ type: 'device', key: 'cpuCores', op: 'gte', value: '1' }] }] };
    renderWithApp(<TemplateBuilder value={t} onChange={() => {}} errors={{ 'groups[0].blocks[0].op': 'op gte is not valid here' }} />);
    expect(within(screen.getByTestId('block-0-0')).getByText('op gte is not valid here')).toBeInTheDocument();
  });
});
