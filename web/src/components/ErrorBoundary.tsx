import { Component, type ReactNode } from 'react';
import { Alert, Button } from 'antd';

/** Keeps one broken page from blanking the app; reset when the route changes. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert
        type="error"
        showIcon
        data-testid="error-state"
        title={this.state.error.name}
        description={this.state.error.message}
        action={<Button onClick={() => this.setState({ error: null })}>↻</Button>}
      />
    );
  }
}
