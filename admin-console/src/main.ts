import { createApp } from 'vue'
import ElementPlus, { ElMessage } from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router'
import { configureHttp } from './api/http'
import { session } from './session'
import { relogin } from './components/relogin'
import './style.css'

configureHttp({
  token: () => session.token,
  relogin: () => relogin.open(),
  passwordChangeRequired: () => {
    ElMessage.warning('请先修改初始密码')
    void router.push('/password')
  },
})

createApp(App).use(ElementPlus, { locale: zhCn }).use(router).mount('#app')
