import { createRouter, createWebHashHistory } from 'vue-router'
import { session } from './session'

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
    { path: '/:rest(.*)', redirect: '/dashboard' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { path: '/login', query: { next: to.fullPath } }
  if (session.token && session.mustChangePassword && to.path !== '/password' && !to.meta.public) return '/password'
  return true
})
