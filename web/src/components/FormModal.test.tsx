import { describe, expect, it } from 'vitest';
import { act, fireEvent, screen } from '@testing-library/react';
import { Form, Input } from 'antd';
import { useState } from 'react';
import { renderWithApp } from '../test/render';
import { FormModal } from './FormModal';

let rerender: () => void = () => {};

function Parent() {
  const [, setTick] = useState(0);
  rerender = () => setTick((n) => n + 1);
  return (
    // A literal initial: a new object every render, as the pages pass it.
    <FormModal<{ name: string }> open title="x" initial={{ name: 'start' }} onSubmit={async () => {}} onClose={() => {}}>
      {() => (
        <Form.Item name="name">
          <Input data-testid="name" />
        </Form.Item>
      )}
    </FormModal>
  );
}

describe('FormModal', () => {
  it('fills the initial values on open and keeps what the user typed across re-renders', async () => {
    renderWithApp(<Parent />);
    const input = (await screen.findByTestId('name')) as HTMLInputElement;
    expect(input.value).toBe('start');
    fireEvent.change(input, { target: { value: 'typed' } });
    act(() => rerender());
    expect((screen.getByTestId('name') as HTMLInputElement).value).toBe('typed');
  });
});
