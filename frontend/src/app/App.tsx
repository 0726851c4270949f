import { lazy, Suspense } from "react";
import type { ComponentType, ReactNode } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";

import { Spinner } from "../components/ui";
import { ToastProvider } from "../components/ui/toast";
import { ConfirmProvider } from "../features/step-up/ConfirmProvider";
import { TodosPage } from "../features/todos/TodosPage";
import { ProofMethods } from "../lib/proofs";
import { AuthProvider, useAuth } from "../lib/session";
import { FocusOnNavigate } from "./FocusOnNavigate";
import { RequireAuth, SignedOutOnly, StartOverOnUserSwitch } from "./guards";
import { PROOF_METHODS } from "./proofMethods";
import { LoginRoute } from "./routes/LoginRoute";
import { NotFoundPage } from "./routes/NotFoundPage";

/**
 * Each screen's code loads when it is first shown (a chunk per screen): the login page, the
 * first most people see, carries only what it needs — and the tasks, where it leads, so that
 * signing in shows them at once.
 */
function screen<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }));
}

const RegisterPage = screen(() => import("../features/sign-in/RegisterPage"), "RegisterPage");
const ForgotPasswordPage = screen(() => import("../features/sign-in/ForgotPasswordPage"), "ForgotPasswordPage");
const ResetPasswordPage = screen(() => import("../features/sign-in/ResetPasswordPage"), "ResetPasswordPage");
const SignInErrorPage = screen(() => import("../features/sign-in/SignInErrorPage"), "SignInErrorPage");
const SignInLinkPage = screen(() => import("../features/sign-in/SignInLinkPage"), "SignInLinkPage");
const SecondStepPage = screen(() => import("../features/second-step/SecondStepPage"), "SecondStepPage");
const VerifyPage = screen(() => import("../features/account/VerifyPage"), "VerifyPage");
const NotMePage = screen(() => import("../features/account/NotMePage"), "NotMePage");
const EmailChangeConfirmPage = screen(() => import("../features/account/EmailChangePage"), "EmailChangeConfirmPage");
const EmailChangeCancelPage = screen(() => import("../features/account/EmailChangePage"), "EmailChangeCancelPage");
const WelcomePage = screen(() => import("../features/account/WelcomePage"), "WelcomePage");
const SessionsPage = screen(() => import("../features/sessions/SessionsPage"), "SessionsPage");
const ActivityPage = screen(() => import("../features/activity/ActivityPage"), "ActivityPage");
const AccountLayout = screen(() => import("./routes/account/AccountLayout"), "AccountLayout");
const ProfileRoute = screen(() => import("./routes/account/ProfileRoute"), "ProfileRoute");
const SecurityRoute = screen(() => import("./routes/account/SecurityRoute"), "SecurityRoute");
const DangerRoute = screen(() => import("./routes/account/DangerRoute"), "DangerRoute");
const AdminRoute = screen(() => import("./routes/AdminRoute"), "AdminRoute");

/** An old address of a page that moved: the new one, with the query and fragment kept. */
function Moved({ to }: { to: string }) {
  const { search, hash } = useLocation();
  return <Navigate to={`${to}${search}${hash}`} replace />;
}

/** Toasts belong to the account they were shown to (see ToastProvider). */
function ToastsOfWhoIsSignedIn({ children }: { children: ReactNode }) {
  const { state } = useAuth();
  return <ToastProvider owner={state.status === "signed-in" ? state.userId : null}>{children}</ToastProvider>;
}

export function App() {
  return (
    <AuthProvider>
      <ToastsOfWhoIsSignedIn>
        <ProofMethods value={PROOF_METHODS}>
          <ConfirmProvider>
            <BrowserRouter>
              <StartOverOnUserSwitch />
              <FocusOnNavigate />
              <Suspense fallback={<Spinner />}>
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
                    <Route path="/welcome" element={<WelcomePage />} />
                    <Route path="/account" element={<AccountLayout />}>
                      <Route index element={<ProfileRoute />} />
                      <Route path="security" element={<SecurityRoute />} />
                      <Route path="sessions" element={<SessionsPage />} />
                      <Route path="activity" element={<ActivityPage />} />
                      <Route path="danger" element={<DangerRoute />} />
                    </Route>
                    <Route path="/sessions" element={<Moved to="/account/sessions" />} />
                    <Route path="/activity" element={<Moved to="/account/activity" />} />
                    <Route path="/admin" element={<AdminRoute />} />
                  </Route>
                  <Route path="*" element={<NotFoundPage />} />
                </Routes>
              </Suspense>
            </BrowserRouter>
          </ConfirmProvider>
        </ProofMethods>
      </ToastsOfWhoIsSignedIn>
    </AuthProvider>
  );
}
