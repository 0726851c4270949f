import { BrowserRouter, Route, Routes } from "react-router";

import { EmailChangeCancelPage, EmailChangeConfirmPage } from "../features/account/EmailChangePage";
import { NotMePage } from "../features/account/NotMePage";
import { VerifyPage } from "../features/account/VerifyPage";
import { ActivityPage } from "../features/activity/ActivityPage";
import { SecondStepPage } from "../features/second-step/SecondStepPage";
import { SessionsPage } from "../features/sessions/SessionsPage";
import { ForgotPasswordPage } from "../features/sign-in/ForgotPasswordPage";
import { RegisterPage } from "../features/sign-in/RegisterPage";
import { ResetPasswordPage } from "../features/sign-in/ResetPasswordPage";
import { SignInErrorPage } from "../features/sign-in/SignInErrorPage";
import { SignInLinkPage } from "../features/sign-in/SignInLinkPage";
import { ConfirmProvider } from "../features/step-up/ConfirmProvider";
import { TodosPage } from "../features/todos/TodosPage";
import { ProofMethods } from "../lib/proofs";
import { AuthProvider } from "../lib/session";
import { RequireAuth, SignedOutOnly, StartOverOnUserSwitch } from "./guards";
import { AccountRoute } from "./routes/AccountRoute";
import { PROOF_METHODS } from "./proofMethods";
import { AdminRoute } from "./routes/AdminRoute";
import { LoginRoute } from "./routes/LoginRoute";
import { NotFoundPage } from "./routes/NotFoundPage";

export function App() {
  return (
    <AuthProvider>
      <ProofMethods value={PROOF_METHODS}>
        <ConfirmProvider>
          <BrowserRouter>
            <StartOverOnUserSwitch />
            <Routes>
              <Route element={<SignedOutOnly />}>
                <Route path="/login" element={<LoginRoute />} />
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
              <Route path="/sign-in/mfa" element={<SecondStepPage />} />
              <Route element={<RequireAuth />}>
                <Route path="/" element={<TodosPage />} />
                <Route path="/account" element={<AccountRoute />} />
                <Route path="/sessions" element={<SessionsPage />} />
                <Route path="/activity" element={<ActivityPage />} />
                <Route path="/admin" element={<AdminRoute />} />
              </Route>
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </BrowserRouter>
        </ConfirmProvider>
      </ProofMethods>
    </AuthProvider>
  );
}
