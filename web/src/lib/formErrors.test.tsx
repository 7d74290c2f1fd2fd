import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ApiError } from '../api/client';
import { mapProblem, toNamePath } from './formErrors';
import { StrategyForm } from '../pages/strategies/StrategyForm';
import { toFormValues } from '../pages/strategies/StrategyEditPage';
import { renderWithApp } from '../test/render';
import i18n from '../i18n';

describe('toNamePath', () => {
  const cases: [string, (string | number)[]][] = [
    ['name', ['name']],
    ['cpuTargetValue', ['cpuTargetValue']],
    ['groups[1].blocks[0].op', ['groups', 1, 'blocks', 0, 'op']],
    ['labels.a', ['labels', 'a']],
    ['deviceIds[3]', ['deviceIds', 3]],
  ];
  for (const [in_, want] of cases) it(in_, () => expect(toNamePath(in_)).toEqual(want));
});

describe('mapProblem', () => {
  it('puts body.<field> errors on known fields and keeps the rest', () => {
    const known = new Set(['["name"]', '["cpuTargetValue"]']);
    const got = mapProblem(
      {
        status: 422,
        title: 'Unprocessable Entity',
        detail: 'invalid strategy',
        errors: [
          { location: 'body.cpuTargetValue', message: 'must be below cpuThresholdValue (80) for pool_entry, got 90' },
          { location: 'body.name', message: 'is required' },
          { location: 'body.name', message: 'too short' },
          { location: 'body.color', message: 'unexpected property' },
          { location: 'header.If-Match', message: 'bad' },
        ],
      },
      (n) => known.has(JSON.stringify(n)),
    );
    expect(got.fields).toEqual([
      { name: ['cpuTargetValue'], errors: ['must be below cpuThresholdValue (80) for pool_entry, got 90'] },
      { name: ['name'], errors: ['is required', 'too short'] },
    ]);
    expect(got.unmapped).toEqual(['color: unexpected property', 'header.If-Match: bad']);
  });

  it('shows the detail of a problem without field errors', () => {
    const got = mapProblem({ status: 409, title: 'Conflict', detail: 'strategy x conflicts' }, () => true);
    expect(got.fields).toEqual([]);
    expect(got.unmapped).toEqual(['strategy x conflicts']);
  });
});

describe('StrategyForm with API field errors', () => {
  it('shows the API error under the field it names and the rest above the form', async () => {
    await i18n.changeLanguage('en-US');
    const user = userEvent.setup();
    const values = { ...toFormValues(), name: 'hot pools', cpuThresholdValue: 80, cpuTargetValue: 60 };
    renderWithApp(
      <StrategyForm
        initial={values}
        templates={[]}
        clusters={[]}
        poolTypes={['general']}
        onSubmit={() =>
          Promise.reject(
            new ApiError(422, {
              status: 422,
              title: 'Unprocessable Entity',
              detail: 'invalid strategy',
              errors: [
                { location: 'body.nodeSelector', message: 'bad selector "a=="' },
                { location: 'body.durationMinutes', message: 'must be between 1 and 527040, got 0' },
                { location: 'body.unknownThing', message: 'unexpected property' },
              ],
            }),
          )
        }
      />,
    );
    await user.click(screen.getByTestId('strategy-save'));
    await waitFor(() => expect(screen.getByText('bad selector "a=="')).toBeInTheDocument());
    expect(screen.getByText('must be between 1 and 527040, got 0')).toBeInTheDocument();
    expect(screen.getByTestId('form-banner')).toHaveTextContent('unknownThing: unexpected property');
  });

  it('validates like the API before sending (entry target must be below threshold)', async () => {
    await i18n.changeLanguage('en-US');
    const user = userEvent.setup();
    let sent = 0;
    const values = { ...toFormValues(), name: 'x', cpuThresholdValue: 80, cpuTargetValue: 90 };
    renderWithApp(
      <StrategyForm
        initial={values}
        templates={[]}
        clusters={[]}
        poolTypes={[]}
        onSubmit={async () => {
          sent++;
        }}
      />,
    );
    await user.click(screen.getByTestId('strategy-save'));
    await waitFor(() => expect(screen.getByText('For pool entry the target must be below the threshold')).toBeInTheDocument());
    expect(sent).toBe(0);
  });
});
