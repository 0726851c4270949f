import { BrowserRouter, Route, Routes } from "react-router";

import { AuthProvider } from "./auth/AuthProvider";
import { ConfirmProvider } from "./components/ConfirmProvider";
import { RequireAuth, SignedOutOnly, StartOverOnUserSwitch } from "./components/guards";
import { AccountPage } from "./pages/AccountPage";
import { ActivityPage } from "./pages/ActivityPage";
import { AdminPage } from "./pages/AdminPage";
import { EmailChangeCancelPage, EmailChangeConfirmPage } from "./pages/EmailChangePage";
import { ForgotPasswordPage } from "./pages/ForgotPasswordPage";
import { LoginPage } from "./pages/LoginPage";
import { MfaPage } from "./pages/MfaPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { NotMePage } from "./pages/NotMePage";
import { RegisterPage } from "./pages/RegisterPage";
import { ResetPasswordPage } from "./pages/ResetPasswordPage";
import { SessionsPage } from "./pages/SessionsPage";
import { SignInErrorPage } from "./pages/SignInErrorPage";
import { SignInLinkPage } from "./pages/SignInLinkPage";
import { TodosPage } from "./pages/TodosPage";
import { VerifyPage } from "./pages/VerifyPage";

export function App() {
  return (
    <AuthProvider>
      <ConfirmProvider>
        <BrowserRouter>
          <StartOverOnUserSwitch />
          <Routes>
            <Route element={<SignedOutOnly />}>
              <Route path="/login" element={<LoginPage />} />
              <Route path="/register" element={<RegisterPage />} />
              <Route path="/forgot-password" element={<ForgotPasswordPage />} />
            </Route>
            <Route path="/reset-password" element={<ResetPasswordPage />} />
            <Route path="/verify" element={<VerifyPage />} />
            <Route path="/verify/not-me" element={<NotMePage />} />
            <Route path="/email-change/confirm" element={<EmailChangeConfirmPage />} />
            <Route path="/email-change/cancel" element={<EmailChangeCancelPage />} />
            <Route path="/sign-in/error" element={<SignInErrorPage />} />
            <Route path="/sign-in/link" element={<SignInLinkPage />} />
            <Route path="/sign-in/mfa" element={<MfaPage />} />
            <Route element={<RequireAuth />}>
              <Route path="/" element={<TodosPage />} />
              <Route path="/account" element={<AccountPage />} />
              <Route path="/sessions" element={<SessionsPage />} />
              <Route path="/activity" element={<ActivityPage />} />
              <Route path="/admin" element={<AdminPage />} />
            </Route>
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </BrowserRouter>
      </ConfirmProvider>
    </AuthProvider>
  );
}
