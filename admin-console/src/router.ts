import { createRouter, createWebHashHistory } from 'vue-router'
import { session, type Role } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    /** The roles that may open the page (API.md: accounts and the audit log are the owners'); absent: every role. */
    roles?: Role[]
  }
}

// Hash history: the server serves one index.html at /admin/ and needs no fallback route.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/login', component: () => import('./views/Login.vue'), meta: { public: true } },
    { path: '/password', component: () => import('./views/ChangePassword.vue') },
    { path: '/', redirect: '/dashboard' },
    { path: '/dashboard', component: () => import('./views/Dashboard.vue') },
    { path: '/items', component: () => import('./views/Items.vue') },
    { path: '/items/new', component: () => import('./views/ItemEdit.vue') },
    { path: '/items/:id', component: () => import('./views/ItemEdit.vue'), props: true },
    { path: '/quizzes', component: () => import('./views/Quizzes.vue') },
    { path: '/quizzes/new', component: () => import('./views/QuizEdit.vue') },
    { path: '/quizzes/:id', component: () => import('./views/QuizEdit.vue'), props: true },
    { path: '/orders', component: () => import('./views/Orders.vue') },
    { path: '/campaigns', component: () => import('./views/Campaigns.vue') },
    { path: '/campaigns/new', component: () => import('./views/CampaignEdit.vue') },
    { path: '/campaigns/:id', component: () => import('./views/CampaignEdit.vue'), props: true },
    { path: '/campaigns/:id/stats', component: () => import('./views/CampaignStats.vue'), props: true },
    { path: '/accounts', component: () => import('./views/Accounts.vue'), meta: { roles: ['owner'] } },
    { path: '/audit', component: () => import('./views/Audit.vue'), meta: { roles: ['owner'] } },
    { path: '/forbidden', component: () => import('./views/Forbidden.vue') },
    { path: '/:rest(.*)', redirect: '/dashboard' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { path: '/login', query: { next: to.fullPath } }
  if (session.token && session.mustChangePassword && to.path !== '/password' && !to.meta.public) return '/password'
  // the menu hides what the role may not open; a typed or bookmarked address says which role it needs (the server
  // refuses the calls anyway)
  if (to.meta.roles && !(session.role && to.meta.roles.includes(session.role))) {
    return { path: '/forbidden', query: { need: to.meta.roles.join(','), from: to.fullPath } }
  }
  return true
})
