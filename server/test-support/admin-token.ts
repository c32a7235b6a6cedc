/** The admin token every test and bench hub is started with (GREENLIGHT_ADMIN_TOKEN), unless one picks its own. */
export const ADMIN_TOKEN = 'glt_test-admin-token-0123456789';
