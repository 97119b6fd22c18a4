import type { HttpRoute } from '../bus/http-intake';
import { type DashboardSources, dashboardModel } from './dashboard-data';
import { DASHBOARD_CSP, renderDashboard } from './dashboard-page';

export const DASHBOARD_PATH = '/dashboard';

/** GET /dashboard on the daemon's port: read-only, behind the intake's token when one is set. */
export function dashboardRoute(sources: DashboardSources): HttpRoute {
  return {
    method: 'GET',
    path: DASHBOARD_PATH,
    auth: 'intake',
    async handle() {
      const body = renderDashboard(await dashboardModel(sources));
      return {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': DASHBOARD_CSP,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        },
        body,
      };
    },
  };
}
