/**
 * The Content-Security-Policy of every dashboard response (monitoring.md section 10): the page runs only its own
 * script and styles, served by this server, so the SVG it inlines may carry no `style` of its own.
 */
export const DASHBOARD_CSP = "default-src 'self'; img-src 'self' data:";

const PATHS = new Set(['/dashboard', '/dashboard/graph.svg', '/dashboard/state.json']);

/**
 * A path the dashboard's routes answer (the auth hook takes the dashboard cookie on these only: any other path
 * under `/dashboard/` is the graph's, which needs the Bearer header).
 */
export function isDashboardPath(path: string): boolean {
  return PATHS.has(path) || path.startsWith('/dashboard/assets/');
}
